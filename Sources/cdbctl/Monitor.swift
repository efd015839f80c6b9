import ArgumentParser
import DockerClient
import Foundation
import Runbook
import struct Runbook.Notification

/// `cdbctl monitor`: one cycle of seed §4, for cron.
struct Monitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One monitoring cycle (seed §4): containers, health, risk figures, data growth, the §4.2 alarm table.",
        discussion: """
        Meant for cron, every 4 hours (`cdbctl schedule --install`).

        Alarms live across cycles (reports/state/alarms.json): each opens once, repeats while it lasts and resolves
        when its step passes again; crashes Docker repaired are counted, and three within a day are a crash loop.
        A container the run holds (stopped by a playbook, the operator or the planned stop) is deliberate: never an
        alarm, never restarted. In maintenance (`cdbctl maintenance start`) the cycle is recorded and raises nothing.
        After `cdbctl stop` there is nothing to watch: the cycle says so and exits 0.

        Exit 0 when no alarm is raised, 1 on any alarm (WARNING or CRITICAL) or a stop left half-done, 3 when
        another run holds the lock.
        """)

    @OptionGroup var options: GlobalOptions

    /// Seed §4: a cycle every 4 hours, unless runbook.yaml's schedule says otherwise; a longer gap is the missed-cycle alarm.
    static func cycleInterval(_ definition: RunbookDefinition) -> Duration {
        definition.schedule.longestGap(of: "monitor") ?? .seconds(4 * 3600)
    }

    @Flag(help: "Hand each alarm to its incident playbook (seed §4.2's action column) right after the cycle.")
    var remediate = false

    func run() async throws {
        var session = try await options.session(command: remediate ? "monitor --remediate" : "monitor")
        let run: RunRecord?
        do {
            run = try session.journal.load()
        } catch {
            // Without the run the cycle cannot tell a hold from a crash: it fails closed, remediating nothing.
            await session.notify([Notification(kind: .alarmOpened, severity: .critical, key: "alarm:run-unreadable", title: "The run's record is unreadable",
                                               body: "\(error)", time: Date(), runID: nil)], action: "notify run-unreadable")
            session.lock.release()
            throw CommandFailure.failed("\(error): nothing watched or remediated until it is repaired or moved aside")
        }
        if let run, try await unwatched(run, session) { return }
        if let run { await releaseRestartedHolds(of: run, session) }
        // A cycle of an earlier run is no baseline: its growth, its restart counts and its time say nothing about this one.
        if let started = run?.startedAt, let previous = session.executor.command.previousCycle, previous.startedAt < started {
            session.executor.command.previousCycle = nil
        }
        let maintenance = session.journal.current()?.status == .maintenance
        var alarms: [Alarm] = []
        var record = try await session.runPhase(.monitor) { results in
            alarms = AlarmTable.alarms(from: results)
            return (AlarmTable.verdict(alarms), alarms.map { "ALARM \($0.severity.rawValue.uppercased()): \($0.message)" + ($0.playbook.map { " → cdbctl incident \($0)" } ?? "") })
        }
        record.alarms = alarms
        let file = AlarmLedgerFile(reportsDirectory: session.reports.root.path, mask: session.reports.mask)
        var ledger = loadLedger(file, into: &record)
        if maintenance {
            // Crashes while the operator works are theirs: the next cycle counts from what Docker says now.
            ledger.rebase(restartCounts: restartCounts(in: record, session))
            save(ledger, to: file, noting: &record)
            record.notes.append("maintenance: \(alarms.count) alarm\(alarms.count == 1 ? "" : "s") not raised, nothing remediated (cdbctl maintenance end)")
            try await session.finish(record, failed: false)
            return
        }
        let changes = recordCycle(&record, in: &ledger, session)
        // Before any remediation: the operator hears of the alarm even when a playbook hangs. The ledger is saved after
        // the delivery, so a cdbctl killed in between announces the changes again (the Notifier drops repeats).
        await session.notify(changes.map { Notification($0, at: record.startedAt, runID: run?.id) }, escalating: ledger.open.map(OpenAlarm.init),
                             action: "notify alarms")
        save(ledger, to: file, noting: &record)
        if remediate {
            await session.withRunner { await Remediation.run(for: &record, with: $0) }
        }
        try await session.finish(record, failed: !record.alarms.isEmpty)
    }

    /// A run that is not up to be watched: says why and ends the command (true), or false to run the cycle.
    private func unwatched(_ run: RunRecord, _ session: PhaseSession) async throws -> Bool {
        let since = run.history.last.map { ISO8601DateFormatter().string(from: $0.time) } ?? "?"
        let message: String
        switch run.status {
        case .running, .paused, .maintenance: return false
        case .go: message = "run \(run.id): GO at \(ISO8601DateFormatter().string(from: run.goAt)), not started yet (cdbctl start): nothing to watch"
        case .stopped, .analysed: message = "run \(run.id) \(run.status.rawValue) since \(since): nothing to watch (cdbctl schedule --remove ends the cron jobs)"
        case .stopping:
            let problem = "run \(run.id): a stop began at \(since) and did not finish: run cdbctl stop again (its steps skip what is done)"
            session.reports.audit(command: session.command, action: "cycle", outcome: "stop unfinished", detail: run.id)
            await session.notify([Notification(kind: .alarmOpened, severity: .critical, key: "alarm:stop-unfinished", title: "The stop did not finish",
                                               body: problem, time: Date(), runID: run.id)], action: "notify stop-unfinished")
            session.lock.release()
            throw CommandFailure.failed(problem)
        }
        session.reports.audit(command: session.command, action: "cycle", outcome: "not watched", detail: message)
        print(options.json ? TableOutput.json(["run": run.id, "status": run.status.rawValue, "message": message]) : message)
        session.lock.release()
        return true
    }

    /// A held container that runs again was started on purpose (the seed's "start cdb_execution again" after a
    /// risk-limit breaker): its hold ends, and the run resumes when no trading service is held.
    private func releaseRestartedHolds(of run: RunRecord, _ session: PhaseSession) async {
        guard !run.holds.isEmpty,
              let engine = try? DockerEngine(environment: session.executor.environment, project: session.definition.settings.project),
              let containers = try? await engine.containers() else { return }
        for hold in run.holds {
            guard let container = containers.first(where: { $0.service == hold.service }), container.state == "running" else { continue }
            session.updateRun("release \(hold.service)") { current in
                RunTransitions.released(current ?? run, service: hold.service, by: "operator (started outside cdbctl)", at: Date())
            }
        }
    }

    /// The ledger, or a fresh one when its file is unreadable (moved aside, said in the record): the alarms it held
    /// open again in this cycle if they still hold.
    private func loadLedger(_ file: AlarmLedgerFile, into record: inout PhaseRecord) -> AlarmLedger {
        do {
            return try file.load()
        } catch {
            let aside = file.path + ".unreadable-" + ReportsDirectory.stampFormatter.string(from: Date())
            try? FileManager.default.moveItem(atPath: file.path, toPath: aside)
            record.notes.append("warning: \(error); moved to \(aside), alarms counted afresh")
            return AlarmLedger()
        }
    }

    private func save(_ ledger: AlarmLedger, to file: AlarmLedgerFile, noting record: inout PhaseRecord) {
        do {
            try file.save(ledger)
        } catch {
            record.notes.append("warning: the alarm ledger (\(file.path)) not written: \(error)")
        }
    }

    /// Docker's restart counts as the crash-counting steps saw them.
    private func restartCounts(in record: PhaseRecord, _ session: PhaseSession) -> [String: Int] {
        let crashSteps = session.definition.crashCountingSteps
        var counts: [String: Int] = [:]
        for result in record.results where crashSteps.contains(result.id) {
            for (key, value) in result.figures where key.hasPrefix("restarts.") { counts[String(key.dropFirst("restarts.".count))] = Int(value) }
        }
        return counts
    }

    /// The cycle's alarms into the ledger: lifecycle notes, crash loops and a missed cycle as alarms of their own, the
    /// verdict again.
    private func recordCycle(_ record: inout PhaseRecord, in ledger: inout AlarmLedger, _ session: PhaseSession) -> [AlarmChange] {
        var passed = Set(record.results.filter { $0.status == .pass }.map(\.id))
        if let run = session.journal.current() {
            for orphan in OrphanedHolds.alarms(run, incidents: IncidentHistory(reportsDirectory: session.reports.root.path).entries()) {
                record.alarms.append(orphan)
                record.notes.append("ALARM \(orphan.severity.rawValue.uppercased()): \(orphan.message)")
            }
        }
        if let gap = CycleGap.alarm(previous: session.executor.command.previousCycle?.startedAt, now: record.startedAt,
                                    interval: Self.cycleInterval(session.definition), hostBootedAt: CycleGap.hostBootTime()) {
            record.alarms.append(gap)
            record.notes.append("ALARM \(gap.severity.rawValue.uppercased()): \(gap.message)")
        } else {
            passed.insert(CycleGap.alarmKey)
        }
        // An alarm whose step the runbook no longer has can never pass again: it ends here.
        let steps = Set(session.definition.phase(.monitor).steps.map(\.id))
        passed.formUnion(ledger.open.map(\.key).filter { !steps.contains($0) && $0 != CycleGap.alarmKey && !AlarmLedger.isCrashLoop($0) })
        let changes = ledger.record(alarms: record.alarms, passed: passed, restartCounts: restartCounts(in: record, session), at: record.startedAt,
                                    run: session.journal.current()?.id)
        for change in changes {
            let alarm = change.alarm
            if AlarmLedger.isCrashLoop(alarm.key) {
                if case .resolved = change {} else {
                    record.alarms.append(Alarm(step: alarm.key, severity: alarm.severity, message: alarm.message, playbook: nil))
                }
            }
            record.notes.append(AlarmNotes.line(for: change))
        }
        record.verdict = AlarmTable.verdict(record.alarms)
        return changes
    }
}
