import ArgumentParser
import Foundation
import RunReports
import LocalServers
import Runbook

/// `cdbctl postrun`: seed §8.
struct PostRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postrun",
        abstract: "Post-run analysis (seed §8): CSV exports via COPY, trading and system metrics, risk compliance, the final report.",
        discussion: """
        Writes <reports-dir>/postrun/<UTC stamp>/ (CSV files, final-report.md from templates/final-report.md.mustache, its JSON twin, charts).
        During a run it reads the live stack. After `cdbctl stop` (the stack down) it restores the stop's final backup into a scratch
        PostgreSQL on loopback and reads the logs the stop archived; restarts and uptime then come from the monitor's cycles.
        The final report of a stopped run marks it analysed. Exit 0 when written, 1 when the database could not be read.
        """)

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let definition = try options.loadRunbook()
        let (environment, stack) = try options.stackEnvironment()
        let reports = ReportsDirectory(path: options.reportsDir, mask: SecretMask(environment: environment))
        let journal = RunJournal(reportsDirectory: options.reportsDir)
        let run = journal.current()
        let started = run?.startedAt ?? reports.lastRecord(of: .start).flatMap { $0.verdict == .operational ? $0.startedAt : nil }
        let incidents = IncidentHistory(reportsDirectory: options.reportsDir).entries().filter { $0.time >= (run?.goAt ?? .distantPast) }.count
        let directory = try reports.privateDirectory("postrun").appendingPathComponent(ReportsDirectory.stampFormatter.string(from: Date())).path
        try await reports.writeDocument(command: "postrun", label: "final report", json: options.json) {
            var runner = PostRunner(environment: environment, postgres: stack.postgres, project: definition.settings.project,
                                    runStartedAt: started, incidents: incidents)
            var scratch: LocalPostgresServer?
            if run?.status.isOver == true {
                let archive = try ArchivedRun(definition: definition, reportsDirectory: options.reportsDir)
                let restored = try await archive.restoreIntoScratchDatabase()
                scratch = restored.server
                let cycles = monitorCycles(since: started, definition: definition, reports: reports)
                runner.postgres = restored.database
                runner.system = .archive(logsDirectory: archive.logsDirectory,
                                         crashes: (try? AlarmLedgerFile(reportsDirectory: options.reportsDir).load())?.crashesThisRun ?? [:],
                                         cyclesUp: cycles.up, cycles: cycles.total)
                runner.source = "the final backup \(archive.backup) and the logs archived in \(archive.logsDirectory) (the stack is down)"
            }
            defer { if let scratch { Task { await scratch.stop() } } }
            let analysis = try await runner.analyse(exportingTo: directory)
            return (analysis, try runner.write(analysis, templatesDirectory: options.projectDirectory + "/templates", directory: directory))
        }
        // The final report of a stopped run closes it; a post-run during the run is an interim look. Under the lock and
        // against the record as it is now: a GO for the next run may have come while the report was written.
        if let run, run.status == .stopped {
            do {
                let lock = try options.lockForRecords(command: "postrun")
                defer { lock.release() }
                try journal.update { current in
                    guard let current, current.id == run.id, current.status == .stopped else { return current ?? run }
                    return RunTransitions.analysed(current, at: Date())
                }
                reports.audit(command: "postrun", action: "run analysed", outcome: RunStatus.analysed.rawValue, detail: run.id)
            } catch {
                reports.audit(command: "postrun", action: "run analysed", outcome: "not written", detail: "\(error)")
            }
        }
    }

    /// The monitor cycles of the run, and how many found every container up (their crash step passed).
    private func monitorCycles(since start: Date?, definition: RunbookDefinition, reports: ReportsDirectory) -> (up: Int, total: Int) {
        let crashSteps = definition.crashCountingSteps
        let records = reports.records(of: .monitor).filter { $0.startedAt >= (start ?? .distantPast) }
        let up = records.filter { record in record.results.contains { crashSteps.contains($0.id) && $0.status == .pass } }.count
        return (up, records.count)
    }
}
