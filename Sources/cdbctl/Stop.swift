import ArgumentParser
import Foundation
import Runbook
import struct Runbook.Notification
import YAMLParser

/// `cdbctl stop` (seed §7.1) and `cdbctl stop --emergency --reason "…"` (§7.2).
struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "End the run: planned (§7.1: stop execution, wait for positions, backup, archive logs, down) or --emergency (§7.2).",
        discussion: "Volumes are always kept. Safe to re-run after a partial failure: every step checks what is already done. Exit 0 when stopped, 1 when a step failed.")

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Stop every trading service at once and write an incident report (seed §7.2).")
    var emergency = false

    @Option(help: "Why the emergency stop was called (required with --emergency).")
    var reason: String?

    @Option(help: "Planned stop: how long to wait for open positions before closing them in paper mode (e.g. 10m; default: runbook.yaml's).",
            transform: { text in
                guard let duration = Duration(yamlScalar: text) else { throw ValidationError("--position-wait: expected a duration like 30s, 10m or 1h, got '\(text)'") }
                return duration
            })
    var positionWait: Duration?

    func validate() throws {
        if emergency, (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--emergency needs --reason \"…\" (it goes into the incident report)")
        }
        if !emergency, reason != nil { throw ValidationError("--reason goes with --emergency") }
        if emergency, positionWait != nil { throw ValidationError("--position-wait goes with the planned stop; --emergency does not wait") }
    }

    func run() async throws {
        var session = try await options.session(command: emergency ? "stop --emergency" : "stop")
        let mode: StopMode = emergency ? .emergency : .planned
        await StopPlan(mode: mode, positionWait: positionWait).prepare(&session.definition, &session.executor, reason: reason)
        session.reports.audit(command: "stop", action: emergency ? "emergency stop" : "planned stop", outcome: "begin", detail: reason ?? "")
        // A stop run again after one that did not finish: the cycles have been reporting it as an alarm.
        let resumesUnfinishedStop = session.journal.current()?.status == .stopping
        if let run = session.journal.current(), !run.status.isOver {
            session.updateRun("stopping") { _ in RunTransitions.stopping(run, mode: mode, reason: reason, at: Date()) }
        }
        let record = try await session.runPhase(.stop) { results in
            (PhaseVerdict.verdict(results, success: .stopped), reason.map { ["reason: \($0)"] } ?? [])
        }
        if record.verdict == .stopped, let run = session.journal.current(), run.status == .stopping {
            session.updateRun("stopped") { _ in RunTransitions.stopped(run, mode: mode, at: record.finishedAt) }
            if resumesUnfinishedStop {
                await session.notify([Notification(kind: .alarmResolved, severity: .critical, key: "alarm:stop-unfinished", title: "The stop finished",
                                                   body: "run \(run.id) stopped at \(ISO8601DateFormatter().string(from: record.finishedAt))",
                                                   time: record.finishedAt, runID: run.id)], action: "notify stop-unfinished resolved")
            }
        }
        try await session.finish(record, failed: !record.verdict.succeeded)
    }
}
