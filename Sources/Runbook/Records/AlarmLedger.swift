import Foundation
import Primitives
import TradeStore

/// One alarm as it lives across monitor cycles: opened once, seen again each cycle it persists, resolved by the
/// first cycle whose step passes again.
public struct LedgerAlarm: Sendable, Codable, Equatable {
    /// The alarm's name, what deduplicates it: the monitor step's id, or `crash-loop:<service>`.
    public var key: String
    public var severity: Severity
    public var message: String
    public var playbook: String?
    public var firstSeen: Date
    public var lastSeen: Date
    /// Cycles that found it, the opening one included.
    public var cycles: Int
    public var resolvedAt: Date?

    enum CodingKeys: String, CodingKey {
        case key, severity, message, playbook, cycles
        case firstSeen = "first_seen"
        case lastSeen = "last_seen"
        case resolvedAt = "resolved_at"
    }
}

/// What a cycle changed in the ledger: the notifications and the timeline are made of these.
public enum AlarmChange: Sendable, Equatable {
    case opened(LedgerAlarm)
    /// Still there; `worsened` when its severity rose since the last cycle.
    case repeated(LedgerAlarm, worsened: Bool)
    case resolved(LedgerAlarm)

    public var alarm: LedgerAlarm {
        switch self {
        case .opened(let alarm), .repeated(let alarm, _), .resolved(let alarm): alarm
        }
    }
}

/// A rise of Docker's restart count seen by a cycle: a crash its restart policy repaired.
public struct CrashObservation: Sendable, Codable, Equatable {
    public var service: String
    public var time: Date
    public var crashes: Int
}

/// `reports/state/alarms.json`'s content: the open alarms, the recently resolved ones, and the crashes of the
/// last day (a loop of crashes shows only across cycles).
public struct AlarmLedger: Sendable, Codable, Equatable {
    public var open: [LedgerAlarm] = []
    /// Newest last, at most `resolvedKept`.
    public var resolved: [LedgerAlarm] = []
    public var crashes: [CrashObservation] = []
    /// Docker's restart count per service as the last cycle saw it.
    public var restartCounts: [String: Int] = [:]
    /// The run the crash totals belong to; a new run starts them again.
    public var runID: String?
    /// Every crash of the run per service (the post-run's restarts, when the containers are gone).
    public var crashesThisRun: [String: Int] = [:]

    public init() {}

    public static let resolvedKept = 200
    /// Crashes of one service within this window make a crash loop: Docker keeps repairing what keeps breaking,
    /// and a restart by a playbook will not help either.
    public static let crashLoopWindow: TimeInterval = 24 * 3600
    public static let crashLoopCrashes = 3

    /// Records one cycle. `alarms` are the cycle's alarms, `passed` the steps that passed (an alarm resolves
    /// only when its step passed: a step skipped for a failed dependency says nothing), `restartCounts` Docker's
    /// counts from the crash check. Returns what changed, crash loops included.
    public mutating func record(alarms: [Alarm], passed: Set<String>, restartCounts counts: [String: Int], at time: Date,
                                run: String? = nil) -> [AlarmChange] {
        var changes: [AlarmChange] = []
        if run != runID {
            // A new run starts with a clean slate: the last run's alarms end with it, its crashes count no more.
            for var alarm in open {
                alarm.resolvedAt = time
                resolved.append(alarm)
                changes.append(.resolved(alarm))
            }
            open = []
            crashes = []
            runID = run
            crashesThisRun = [:]
        }
        var current = alarms.map { (key: $0.step, severity: $0.severity, message: $0.message, playbook: $0.playbook) }
        current += crashLoops(counts, at: time).map { (key: Self.crashLoopPrefix + $0.service, severity: .critical, message: $0.message, playbook: nil) }
        for alarm in current {
            if let index = open.firstIndex(where: { $0.key == alarm.key }) {
                let worsened = open[index].severity == .warning && alarm.severity == .critical
                open[index].severity = alarm.severity
                open[index].message = alarm.message
                open[index].playbook = alarm.playbook
                open[index].lastSeen = time
                open[index].cycles += 1
                changes.append(.repeated(open[index], worsened: worsened))
            } else {
                let opened = LedgerAlarm(key: alarm.key, severity: alarm.severity, message: alarm.message, playbook: alarm.playbook,
                                         firstSeen: time, lastSeen: time, cycles: 1, resolvedAt: nil)
                open.append(opened)
                changes.append(.opened(opened))
            }
        }
        let seen = Set(current.map(\.key))
        for alarm in open where !seen.contains(alarm.key) {
            // A crash loop ends when its window holds fewer crashes than make one; a step's alarm when the step passed.
            let over = Self.isCrashLoop(alarm.key) || passed.contains(alarm.key)
            guard over else { continue }
            var ended = alarm
            ended.resolvedAt = time
            resolved.append(ended)
            changes.append(.resolved(ended))
        }
        let resolvedKeys = Set(changes.compactMap { if case .resolved(let alarm) = $0 { alarm.key } else { nil } })
        open.removeAll { resolvedKeys.contains($0.key) }
        if resolved.count > Self.resolvedKept { resolved.removeFirst(resolved.count - Self.resolvedKept) }
        return changes
    }

    static let crashLoopPrefix = "crash-loop:"

    public static func isCrashLoop(_ key: String) -> Bool { key.hasPrefix(crashLoopPrefix) }

    /// Takes Docker's counts as the new baseline without counting crashes (a maintenance cycle: what happened while the
    /// operator worked is theirs).
    public mutating func rebase(restartCounts counts: [String: Int]) {
        restartCounts.merge(counts) { _, new in new }
    }

    /// Adds the crashes since the last cycle and returns the services whose crashes within the window make a loop.
    private mutating func crashLoops(_ counts: [String: Int], at time: Date) -> [(service: String, message: String)] {
        for (service, count) in counts {
            // A recreated container starts again at 0: that is a new baseline, not a negative crash count.
            if let before = restartCounts[service], count > before {
                crashes.append(CrashObservation(service: service, time: time, crashes: count - before))
                crashesThisRun[service, default: 0] += count - before
            }
            restartCounts[service] = count
        }
        crashes.removeAll { time.timeIntervalSince($0.time) > Self.crashLoopWindow }
        let byService = Dictionary(grouping: crashes, by: \.service)
        return byService.keys.sorted().compactMap { service in
            let seen = byService[service]!
            let total = seen.reduce(0) { $0 + $1.crashes }
            guard total >= Self.crashLoopCrashes else { return nil }
            let first = seen.map(\.time).min()!
            return (service, "\(service) crashed \(total) times in \(seen.count) cycle\(seen.count == 1 ? "" : "s") since "
                + "\(ISO8601DateFormatter().string(from: first)) (a loop: \(Self.crashLoopCrashes) within 24 h); Docker keeps restarting it: "
                + "read its logs (cdbctl incident container-crash --service \(service) saves them) and decide whether to stop the run")
        }
    }
}

/// Holds a playbook left behind when it did not resolve its incident (the restore failed after stopping the writer):
/// nobody decided to keep that container stopped, so each cycle warns until it is started or released.
public enum OrphanedHolds {
    public static func alarms(_ run: RunRecord, incidents: [IncidentEntry]) -> [Alarm] {
        run.holds.compactMap { hold in
            guard let id = hold.incident, let entry = incidents.last(where: { $0.id == id }),
                  let outcome = entry.outcome, outcome != Verdict.resolved.rawValue else { return nil }
            return Alarm(step: "held-by-failed-playbook:\(hold.service)", severity: .warning,
                         message: "\(hold.service) stopped by \(hold.by) in incident \(id), which ended \(outcome): start it (cdbctl release \(hold.service)) or hold it on purpose (cdbctl hold \(hold.service) --reason …)",
                         playbook: nil)
        }
    }
}

/// How a change reads in a cycle's notes and the timeline.
public enum AlarmNotes {
    public static func line(for change: AlarmChange) -> String {
        let alarm = change.alarm
        let name = "\(alarm.severity.rawValue.uppercased()) \(alarm.key)"
        switch change {
        case .opened: return "alarm opened: \(name)"
        case .repeated(_, let worsened):
            return "alarm \(worsened ? "worsened" : "still open"): \(name) (since \(stamp(alarm.firstSeen)), \(alarm.cycles) cycles)"
        case .resolved: return "alarm resolved: \(name) (open since \(stamp(alarm.firstSeen)), \(alarm.cycles) cycle\(alarm.cycles == 1 ? "" : "s"))"
        }
    }

    static func stamp(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}

/// The ledger's file, written atomically.
public struct AlarmLedgerFile: Sendable {
    public var path: String
    public var reportsDirectory: String
    /// Applied when the ledger is saved; a ledger only loaded needs none.
    public var mask: SecretMask

    public init(reportsDirectory: String, mask: SecretMask = .urlPasswordsOnly) {
        path = reportsDirectory + "/state/alarms.json"
        self.reportsDirectory = reportsDirectory
        self.mask = mask
    }

    /// The ledger; a fresh one when there is no file yet; an error naming the file when it cannot be read.
    public func load() throws(ReportError) -> AlarmLedger {
        guard let data = FileManager.default.contents(atPath: path) else { return AlarmLedger() }
        do {
            return try ReportsDirectory.decoder.decode(AlarmLedger.self, from: data)
        } catch {
            throw ReportError(message: "\(path) is unreadable (\((error as? DecodingError)?.summary ?? "\(error)"))")
        }
    }

    public func save(_ ledger: AlarmLedger) throws {
        // The alarms quote the steps' details: masked like the records they come from.
        try OperatorFiles.writePrivateJSON(ledger, to: path, under: reportsDirectory, masking: mask)
    }
}

/// The time between two cycles, judged: a cycle that comes late means cron stopped, a lock was stuck or the host
/// slept; one after a reboot says so. Nothing outside the cycles can tell, so each cycle looks back at the last.
public enum CycleGap {
    /// The alarm's name in the ledger and the notifications.
    public static let alarmKey = "missed-cycle"

    /// How late a cycle may come before the gap is an alarm: cron's own jitter and a long previous cycle fit in it.
    public static let grace: TimeInterval = 30 * 60

    /// The `missed-cycle` alarm, or nil when the previous cycle was on time (or there was none).
    public static func alarm(previous: Date?, now: Date, interval: Duration, hostBootedAt: Date?) -> Alarm? {
        guard let previous else { return nil }
        let gap = now.timeIntervalSince(previous)
        let rebooted = hostBootedAt.map { $0 > previous } ?? false
        guard gap > interval.seconds + grace || rebooted else { return nil }
        var message = String(format: "%.1f h since the previous cycle (%@; the schedule runs one every %@)", gap / 3600,
                             ISO8601DateFormatter().string(from: previous), interval.secondsText)
        if let hostBootedAt, rebooted {
            message += "; the host started again at \(ISO8601DateFormatter().string(from: hostBootedAt)): Docker's restart policy brings the stack back, the checks below say whether it did"
        } else {
            message += ": cycles were missed (cron stopped, a cdbctl run held the lock, or the host slept): crontab -l, reports/cron/*.log"
        }
        return Alarm(step: alarmKey, severity: .warning, message: message, playbook: nil)
    }

    /// When the host booted (`btime` of /proc/stat), nil where that cannot be read.
    public static func hostBootTime() -> Date? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let seconds = TimeInterval(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces)) else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }
}
