import Foundation
@testable import Runbook
import YAMLParser
import Testing

@Suite("The run's status across a week: GO, start, holds, maintenance, stop, post-run")
struct RunTransitionTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func hold(_ service: String, by: String = "playbook risk-limit", at offset: TimeInterval = 60) -> ContainerHold {
        ContainerHold(service: service, by: by, reason: "test", since: t0.addingTimeInterval(offset))
    }

    @Test("GO opens a run, start makes it running and starts the day count, a second GO during the run changes nothing")
    func goStartDays() {
        let go = RunTransitions.go(nil, at: t0)
        #expect(go.status == .go && go.startedAt == nil && go.day(at: t0) == nil)
        let running = RunTransitions.started(go, at: t0.addingTimeInterval(3600))
        #expect(running.id == go.id && running.status == .running)
        #expect(running.day(at: t0.addingTimeInterval(3600)) == 1)
        #expect(running.day(at: t0.addingTimeInterval(3600 + 6 * 86_400 + 1)) == 7)
        #expect(RunTransitions.go(running, at: t0.addingTimeInterval(7200)) == running)
        #expect(running.history.map(\.to) == [.go, .running])
    }

    @Test("holding a trading service pauses the run, releasing the last one resumes it; holding Grafana does not pause")
    func holdsPause() {
        let running = RunTransitions.started(RunTransitions.go(nil, at: t0), at: t0)
        let relief = RunTransitions.held(running, hold("cdb_grafana", by: "playbook resource-shortage"))
        #expect(relief.status == .running && relief.holds.count == 1)
        let paused = RunTransitions.held(relief, hold("cdb_execution"))
        #expect(paused.status == .paused)
        let stillPaused = RunTransitions.held(paused, hold("cdb_core", by: "operator"))
        let oneReleased = RunTransitions.released(stillPaused, service: "cdb_execution", by: "operator", at: t0.addingTimeInterval(120))
        #expect(oneReleased.status == .paused, "cdb_core is still held")
        let resumed = RunTransitions.released(oneReleased, service: "cdb_core", by: "operator", at: t0.addingTimeInterval(180))
        #expect(resumed.status == .running && resumed.holds.map(\.service) == ["cdb_grafana"])
        #expect(RunTransitions.released(resumed, service: "cdb_ws", by: "operator", at: t0) == resumed, "releasing what is not held changes nothing")
    }

    @Test("a container held already keeps its first hold: a breaker run again each cycle moves neither its time nor its owner")
    func firstHoldKept() {
        let running = RunTransitions.started(RunTransitions.go(nil, at: t0), at: t0)
        let operatorHold = RunTransitions.held(running, hold("cdb_execution", by: "operator", at: 60))
        let again = RunTransitions.held(operatorHold, hold("cdb_execution", by: "playbook risk-limit", at: 4 * 3600))
        #expect(again.holds == [hold("cdb_execution", by: "operator", at: 60)])
    }

    @Test("maintenance returns to the status it interrupted, paused included; it is refused on a stopped run and twice")
    func maintenance() throws {
        let running = RunTransitions.started(RunTransitions.go(nil, at: t0), at: t0)
        let paused = RunTransitions.held(running, hold("cdb_execution"))
        let inMaintenance = try RunTransitions.maintenanceStarted(paused, reason: "disk swap", at: t0.addingTimeInterval(600))
        #expect(inMaintenance.status == .maintenance)
        #expect(throws: RunTransitionRefused.self) { try RunTransitions.maintenanceStarted(inMaintenance, reason: "again", at: t0) }
        let back = try RunTransitions.maintenanceEnded(inMaintenance, reason: "done", at: t0.addingTimeInterval(900))
        #expect(back.status == .paused)
        let stopped = RunTransitions.stopped(RunTransitions.stopping(back, mode: .planned, reason: nil, at: t0), mode: .planned, at: t0)
        #expect(stopped.status == .stopped)
        #expect(throws: RunTransitionRefused.self) { try RunTransitions.maintenanceStarted(stopped, reason: "late", at: t0) }
        #expect(throws: RunTransitionRefused.self) { try RunTransitions.maintenanceEnded(back, reason: "none", at: t0) }
    }

    @Test("after the stop a GO opens a new run; post-run analyses the stopped one")
    func nextRun() {
        let running = RunTransitions.started(RunTransitions.go(nil, at: t0), at: t0)
        let stopped = RunTransitions.stopped(RunTransitions.stopping(running, mode: .planned, reason: nil, at: t0), mode: .planned, at: t0)
        #expect(RunTransitions.analysed(stopped, at: t0).status == .analysed)
        let next = RunTransitions.go(stopped, at: t0.addingTimeInterval(86_400 * 8))
        #expect(next.id != running.id && next.status == .go && next.holds.isEmpty)
    }

    @Test("the journal round-trips the run through its file atomically")
    func journal() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdb-run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = RunJournal(reportsDirectory: directory)
        #expect(journal.current() == nil)
        let run = try journal.update { RunTransitions.held(RunTransitions.started($0, at: t0), hold("cdb_execution")) }
        #expect(journal.current() == run && run.status == .paused)
    }
}

@Suite("Alarms across monitor cycles: open, repeat, resolve, crash loops")
struct AlarmLedgerTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let cycle: TimeInterval = 4 * 3600

    func alarm(_ step: String, _ severity: Severity = .critical) -> Alarm {
        Alarm(step: step, severity: severity, message: "\(step) failed", playbook: nil)
    }

    @Test("an alarm opens once, repeats while its step fails, and resolves only when its step passes (a skipped step says nothing)")
    func lifecycle() {
        var ledger = AlarmLedger()
        #expect(ledger.record(alarms: [alarm("database")], passed: ["containers"], restartCounts: [:], at: t0) == [.opened(ledger.open[0])])
        let second = ledger.record(alarms: [alarm("database")], passed: [], restartCounts: [:], at: t0.addingTimeInterval(cycle))
        guard case .repeated(let repeated, worsened: false)? = second.first else { Issue.record("expected a repeat, got \(second)"); return }
        #expect(repeated.cycles == 2 && repeated.firstSeen == t0)
        #expect(ledger.record(alarms: [], passed: [], restartCounts: [:], at: t0.addingTimeInterval(2 * cycle)).isEmpty,
                "the step did not run: still open")
        let resolved = ledger.record(alarms: [], passed: ["database"], restartCounts: [:], at: t0.addingTimeInterval(3 * cycle))
        guard case .resolved(let ended)? = resolved.first else { Issue.record("expected a resolution, got \(resolved)"); return }
        #expect(ended.resolvedAt == t0.addingTimeInterval(3 * cycle) && ended.cycles == 2)
        #expect(ledger.open.isEmpty && ledger.resolved.count == 1)
    }

    @Test("a new run resolves the last run's open alarms and forgets its crashes")
    func newRun() {
        var ledger = AlarmLedger()
        _ = ledger.record(alarms: [alarm("database")], passed: [], restartCounts: ["cdb_core": 0], at: t0, run: "run-1")
        _ = ledger.record(alarms: [alarm("database")], passed: [], restartCounts: ["cdb_core": 2], at: t0.addingTimeInterval(cycle), run: "run-1")
        let next = ledger.record(alarms: [], passed: [], restartCounts: ["cdb_core": 2], at: t0.addingTimeInterval(86_400), run: "run-2")
        #expect(next.map(\.alarm.key) == ["database"])
        if case .resolved? = next.first {} else { Issue.record("expected the old run's alarm resolved, got \(next)") }
        #expect(ledger.open.isEmpty && ledger.crashes.isEmpty && ledger.crashesThisRun.isEmpty && ledger.runID == "run-2")
    }

    @Test("an unreadable ledger file is an error naming it, never an empty ledger")
    func unreadableLedger() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdb-ledger-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = AlarmLedgerFile(reportsDirectory: directory)
        #expect(try file.load() == AlarmLedger(), "no file yet: a fresh ledger")
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        try "{ torn".write(toFile: file.path, atomically: true, encoding: .utf8)
        let error = #expect(throws: ReportError.self) { try file.load() }
        #expect(error?.message.contains("alarms.json is unreadable") == true)
        try "{ torn".write(toFile: directory + "/state/run.json", atomically: true, encoding: .utf8)
        #expect(throws: ReportError.self) { try RunJournal(reportsDirectory: directory).load() }
        #expect(RunJournal(reportsDirectory: directory).current() == nil)
    }

    @Test("a warning that becomes critical is reported as worsened")
    func worsened() {
        var ledger = AlarmLedger()
        _ = ledger.record(alarms: [alarm("memory", .warning)], passed: [], restartCounts: [:], at: t0)
        let changes = ledger.record(alarms: [alarm("memory", .critical)], passed: [], restartCounts: [:], at: t0.addingTimeInterval(cycle))
        #expect(changes.count == 1)
        if case .repeated(let alarm, worsened: true)? = changes.first { #expect(alarm.severity == .critical) } else { Issue.record("\(changes)") }
    }

    @Test("three crashes of one service within 24 h open a crash loop; it resolves when the window holds fewer; a recreated container is a new baseline")
    func crashLoop() {
        var ledger = AlarmLedger()
        _ = ledger.record(alarms: [], passed: [], restartCounts: ["cdb_core": 0, "cdb_ws": 5], at: t0)
        #expect(ledger.record(alarms: [], passed: [], restartCounts: ["cdb_core": 2, "cdb_ws": 0], at: t0.addingTimeInterval(cycle)).isEmpty,
                "two crashes are no loop yet, and cdb_ws recreated (5 → 0) is none")
        let third = ledger.record(alarms: [], passed: [], restartCounts: ["cdb_core": 3, "cdb_ws": 0], at: t0.addingTimeInterval(2 * cycle))
        guard case .opened(let loop)? = third.first else { Issue.record("expected a crash loop, got \(third)"); return }
        #expect(loop.key == "crash-loop:cdb_core" && loop.severity == .critical && loop.message.contains("crashed 3 times in 2 cycles"))
        // A day after the first two crashes they leave the window: one crash within 24 h is no loop.
        let later = ledger.record(alarms: [], passed: [], restartCounts: ["cdb_core": 3, "cdb_ws": 0], at: t0.addingTimeInterval(cycle + 24 * 3600 + 1))
        #expect(later.map(\.alarm.key) == ["crash-loop:cdb_core"])
        if case .resolved? = later.first {} else { Issue.record("expected the loop to resolve, got \(later)") }
        #expect(ledger.crashesThisRun == ["cdb_core": 3], "the run's total outlives the window")
        _ = ledger.record(alarms: [], passed: [], restartCounts: ["cdb_core": 3], at: t0.addingTimeInterval(3 * 86_400), run: "run-2")
        #expect(ledger.crashesThisRun.isEmpty, "a new run counts from zero")
    }
}

@Suite("A cycle that comes late or after a reboot")
struct CycleGapTests {
    let previous = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("on time (with cron's jitter) is no alarm; beyond the interval and the grace it is a missed-cycle warning; a reboot since is one at once")
    func gaps() throws {
        let every = Duration.seconds(4 * 3600)
        #expect(CycleGap.alarm(previous: nil, now: previous, interval: every, hostBootedAt: nil) == nil)
        #expect(CycleGap.alarm(previous: previous, now: previous.addingTimeInterval(4 * 3600 + 600), interval: every, hostBootedAt: nil) == nil)
        let missed = try #require(CycleGap.alarm(previous: previous, now: previous.addingTimeInterval(12 * 3600), interval: every, hostBootedAt: nil))
        #expect(missed.step == "missed-cycle" && missed.severity == .warning && missed.message.hasPrefix("12.0 h since the previous cycle"))
        let rebooted = try #require(CycleGap.alarm(previous: previous, now: previous.addingTimeInterval(3600), interval: every,
                                                   hostBootedAt: previous.addingTimeInterval(1800)))
        #expect(rebooted.message.contains("the host started again"))
        #expect(CycleGap.alarm(previous: previous, now: previous.addingTimeInterval(3600), interval: every,
                               hostBootedAt: previous.addingTimeInterval(-86_400)) == nil, "a boot before the previous cycle is old news")
    }
}

@Suite("A hold a failed playbook left behind")
struct OrphanedHoldTests {
    @Test("a hold whose incident ended UNRESOLVED warns; one whose incident resolved, or is still running, or the operator's, does not")
    func orphans() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        var run = RunTransitions.started(RunTransitions.go(nil, at: t0), at: t0)
        run.holds = [
            ContainerHold(service: "cdb_db_writer", by: "playbook database-restore", reason: "r", since: t0, incident: "restore-1"),
            ContainerHold(service: "cdb_execution", by: "playbook risk-limit", reason: "r", since: t0, incident: "risk-1"),
            ContainerHold(service: "cdb_prometheus", by: "playbook resource-shortage", reason: "r", since: t0, incident: "relief-1"),
            ContainerHold(service: "cdb_core", by: "operator", reason: "r", since: t0),
        ]
        let incidents = [
            IncidentEntry(id: "restore-1", kind: "database-restore", service: "cdb_postgres", time: t0, outcome: nil),
            IncidentEntry(id: "restore-1", kind: "database-restore", service: "cdb_postgres", time: t0, outcome: "UNRESOLVED"),
            IncidentEntry(id: "risk-1", kind: "risk-limit", service: "cdb_execution", time: t0, outcome: "RESOLVED"),
            IncidentEntry(id: "relief-1", kind: "resource-shortage", service: "cdb_core", time: t0, outcome: nil),
        ]
        let alarms = OrphanedHolds.alarms(run, incidents: incidents)
        #expect(alarms.map(\.step) == ["held-by-failed-playbook:cdb_db_writer"])
        #expect(alarms.first?.severity == .warning && alarms.first?.message.contains("ended UNRESOLVED") == true)
    }
}

@Suite("The schedule's next job and the monitor's longest gap")
struct ScheduleNextTests {
    let mark = YAMLMark(line: 1, column: 1)

    @Test("the next job after a time is the nearest firing, strictly later, across midnight and the week's end")
    func next() throws {
        let schedule = RunbookSchedule(entries: [
            ScheduleEntry(id: "monitor", run: ["monitor", "--remediate"], timing: .every(minutes: 240), mark: mark),
            ScheduleEntry(id: "morning-check", run: ["report", "morning"], timing: .at([TimeOfDay(hour: 9, minute: 0)!]),
                          days: [.mon, .tue, .wed, .thu, .fri], mark: mark),
        ])
        // Saturday 2026-12-05 07:30 UTC: the monitor at 08:00, not Monday's morning check.
        let saturday = Date(timeIntervalSince1970: 1_796_455_800)
        let first = try #require(schedule.next(after: saturday))
        #expect(first.entry.id == "monitor" && first.at == saturday.addingTimeInterval(1800))
        // Exactly at 08:00 the next is 12:00: strictly later.
        #expect(schedule.next(after: first.at)?.at == first.at.addingTimeInterval(4 * 3600))
        let weekdays = RunbookSchedule(entries: [schedule.entries[1]])
        let friday = Date(timeIntervalSince1970: 1_796_392_800)  // Friday 2026-12-04 14:00 UTC
        #expect(weekdays.next(after: friday)?.at == Date(timeIntervalSince1970: 1_796_634_000), "Monday 09:00")
        #expect(schedule.longestGap(of: "monitor") == .seconds(4 * 3600))
        #expect(weekdays.longestGap(of: "report") == .seconds(72 * 3600), "Friday 09:00 to Monday 09:00")
        #expect(weekdays.longestGap(of: "monitor") == nil)
    }
}
