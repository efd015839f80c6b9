import ArgumentParser
import Foundation
import Runbook

/// `cdbctl start`: seed §3.
struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the run (seed §3): compose up, wait for healthy, event-flow probe, stabilisation, first data.",
        discussion: "Refuses without a GO on record unless --force. Exit 0 when the system is operational, 1 otherwise.")

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Start without a recorded GO decision.")
    var force = false

    func run() async throws {
        let session = try await options.session(command: "start")
        if !force {
            guard let go = session.reports.lastRecord(of: .go), go.verdict == .go else {
                session.reports.audit(command: "start", action: "refuse", outcome: "no GO on record")
                throw CommandFailure.failed("no GO decision on record: run `cdbctl go` (or pass --force)")
            }
        }
        if let envFile = options.envFilePath {
            do {
                let copy = try session.reports.backUpEnvFile(envFile, phase: .start)
                session.reports.audit(command: "start", action: "env backup", outcome: "kept", detail: copy)
            } catch {
                session.reports.audit(command: "start", action: "env backup", outcome: "failed", detail: "\(error)")
                throw CommandFailure.failed("cannot keep a copy of \(envFile) under \(session.reports.root.path)/start: \(error)")
            }
        }
        let record = try await session.runPhase(.start) { results in
            let verdict = PhaseVerdict.verdict(results, success: .operational)
            return (verdict, verdict == .operational ? ["paper run started: \(ISO8601DateFormatter().string(from: Date()))"] : [])
        }
        if record.verdict == .operational { session.updateRun("start") { RunTransitions.started($0, at: record.startedAt) } }
        try await session.finish(record, failed: !record.verdict.succeeded)
    }
}
