import ArgumentParser
import Foundation
import RunReports
import Runbook

/// `cdbctl report daily|morning|evening`: seed §6, rendered from templates/ with charts and a JSON twin.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the §6 review: morning check (§6.1), evening review (§6.2), or the daily report with both and charts.",
        discussion: """
        Markdown from templates/report.md.mustache, a JSON twin and SVG charts under <reports-dir>/<kind>/. The review judges \
        its figures against the seed's expectations (§4.1: signals, orders, trades per day, open positions, snapshots; §6.1: \
        containers healthy, no errors overnight), pro rata while the run is younger than a day.
        Exit 0 when written and every expectation holds, 1 when one does not or the database could not be read, 2 on a usage error.
        """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: "daily, morning or evening.", transform: { try choice($0, noun: "report") })
    var kind: ReportKind

    func run() async throws {
        let reportKind = kind
        let definition = try options.loadRunbook()
        let (environment, stack) = try options.stackEnvironment()
        let reports = ReportsDirectory(path: options.reportsDir, mask: SecretMask(environment: environment))
        let run = RunJournal(reportsDirectory: options.reportsDir).current()
        let runStartedAt = run?.startedAt
        let optional = Set(definition.phase(.monitor).steps.compactMap { $0.check as? ContainersCheck }.flatMap(\.optional))
        var judgement: ReviewJudgement?
        try await reports.writeDocument(command: "report \(kind.rawValue)", label: "report", json: options.json) {
            let data = try await ReportBuilder(environment: environment, stack: stack, project: definition.settings.project,
                                               expectedServices: stackServices.filter { !optional.contains($0) },
                                               heldServices: Set(run?.holds.map(\.service) ?? []))
                .build(reportKind, runStartedAt: runStartedAt)
            judgement = data.judgement
            let writer = ReportWriter(templatesDirectory: options.projectDirectory + "/templates",
                                      outputDirectory: try reports.privateDirectory(reportKind.rawValue).path, mask: reports.mask)
            return (data, try writer.write(data))
        }
        guard let judgement, !judgement.passed else { return }
        let failed = judgement.items.filter { !$0.passed }
        if !options.json { failed.forEach { print("FAIL \($0.title): \(HumanFigures.cell(String($0.value))), expected \($0.expected)") } }
        reports.audit(command: "report \(kind.rawValue)", action: "judge", outcome: "FAIL", detail: failed.map(\.id).joined(separator: ", "))
        throw CommandFailure.failed("report \(kind.rawValue): \(failed.count) of \(judgement.items.count) expectations not met")
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
