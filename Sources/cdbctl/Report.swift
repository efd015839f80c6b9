import ArgumentParser
import Foundation
import RunReports
import Runbook

/// `cdbctl report daily|morning|evening`: seed §6, rendered from templates/ with charts and a JSON twin.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the §6 review: morning check (§6.1), evening review (§6.2), or the daily report with both and charts.",
        discussion: "Markdown from templates/report.md.mustache, a JSON twin and SVG charts under <reports-dir>/<kind>/. Exit 0 when written, 1 when the database could not be read, 2 on a usage error.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "daily, morning or evening.", transform: { try choice($0, noun: "report") })
    var kind: ReportKind

    func run() async throws {
        let reportKind = kind
        let definition = try options.loadRunbook()
        let (environment, stack) = try options.stackEnvironment()
        let reports = ReportsDirectory(path: options.reportsDir, mask: SecretMask(environment: environment))
        try await reports.writeDocument(command: "report \(kind.rawValue)", label: "report", json: options.json) {
            let data = try await ReportBuilder(environment: environment, stack: stack, project: definition.settings.project).build(reportKind)
            let writer = ReportWriter(templatesDirectory: options.projectDirectory + "/templates",
                                      outputDirectory: try reports.privateDirectory(reportKind.rawValue).path, mask: reports.mask)
            return (data, try writer.write(data))
        }
    }
}

extension ReportsDirectory {
    /// Produces a written document (report, final report), audits the outcome and prints its path — or the
    /// document itself with `--json`; a failure is a failed command (exit 1) with its cause.
    func writeDocument<Document: Encodable>(command: String, label: String, json: Bool,
                                            _ produce: () async throws -> (document: Document, path: String)) async throws {
        do {
            let (document, path) = try await produce()
            audit(command: command, action: "write", outcome: "ok", detail: path)
            print(json ? TableOutput.json(document) : "\(label): \(path)")
        } catch {
            audit(command: command, action: "write", outcome: "failed", detail: "\(error)")
            throw CommandFailure.failed("\(command) failed: \(error)")
        }
    }
}
