import ArgumentParser
import Foundation
import RunReports
import Runbook

/// `cdbctl postrun`: seed §8.
struct PostRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postrun",
        abstract: "Post-run analysis (seed §8): CSV exports via COPY, trading and system metrics, risk compliance, the final report.",
        discussion: "Writes <reports-dir>/postrun/<UTC stamp>/ (CSV files, final-report.md from templates/final-report.md.mustache, its JSON twin, charts). Exit 0 when written, 1 when the database could not be read.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let definition = try options.loadRunbook()
        let (environment, stack) = try options.stackEnvironment()
        let reports = ReportsDirectory(path: options.reportsDir, mask: SecretMask(environment: environment))
        let started = reports.lastRecord(of: .start).flatMap { $0.verdict == .operational ? $0.startedAt : nil }
        let directory = try reports.privateDirectory("postrun").appendingPathComponent(ReportsDirectory.stampFormatter.string(from: Date())).path
        try await reports.writeDocument(command: "postrun", label: "final report", json: options.json) {
            let runner = PostRunner(environment: environment, stack: stack, project: definition.settings.project, runStartedAt: started)
            let analysis = try await runner.analyse(exportingTo: directory)
            return (analysis, try runner.write(analysis, templatesDirectory: options.projectDirectory + "/templates", directory: directory))
        }
        // The final report of a stopped run closes it; a post-run during the run is an interim look.
        let journal = RunJournal(reportsDirectory: options.reportsDir)
        if let run = journal.current(), run.status == .stopped {
            do {
                try journal.save(RunTransitions.analysed(run, at: Date()))
                reports.audit(command: "postrun", action: "run analysed", outcome: RunStatus.analysed.rawValue, detail: run.id)
            } catch {
                reports.audit(command: "postrun", action: "run analysed", outcome: "not written", detail: "\(error)")
            }
        }
    }
}
