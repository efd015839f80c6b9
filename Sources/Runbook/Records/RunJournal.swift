import Foundation
import TradeStore

/// Where a paper run stands. A run begins with GO and ends analysed; in between the monitor, the playbooks
/// and the operator move it, and every cycle reads it to know what is deliberate.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    /// GO recorded, not yet started.
    case go
    case running
    /// A trading service is held (a playbook's circuit breaker, the operator): the stack runs, trading does not.
    case paused
    /// The operator works on the stack: cycles run and record, but raise no alarm and remediate nothing.
    case maintenance
    /// `cdbctl stop` began and has not finished (a failed stop stays here until it is run again).
    case stopping
    case stopped
    /// `cdbctl postrun` wrote the final report.
    case analysed

    /// Whether the stack is meant to be up and trading-ready: the states a monitor cycle watches.
    public var isLive: Bool { [.running, .paused, .maintenance].contains(self) }
    /// Whether the run is over: a new GO opens a new run.
    public var isOver: Bool { [.stopped, .analysed].contains(self) }
}

/// A container stopped on purpose: the monitor counts it as held, never as crashed, and remediation leaves it.
public struct ContainerHold: Sendable, Codable, Equatable {
    public var service: String
    /// Who stopped it: "playbook risk-limit", "stop (planned)", "operator".
    public var by: String
    public var reason: String
    public var since: Date
    /// The incident whose playbook stopped it: a playbook that did not resolve leaves a hold nobody meant to keep.
    public var incident: String?

    public init(service: String, by: String, reason: String, since: Date, incident: String? = nil) {
        self.service = service
        self.by = by
        self.reason = reason
        self.since = since
        self.incident = incident
    }
}

/// One change of the run's status, kept for `cdbctl status` and the post-run timeline.
public struct RunStatusChange: Sendable, Codable, Equatable {
    public var time: Date
    public var from: RunStatus?
    public var to: RunStatus
    public var by: String
    public var reason: String
}

/// The run as an object: id, start, status, held containers and how it got there.
public struct RunRecord: Sendable, Codable, Equatable {
    public var id: String
    public var goAt: Date
    public var startedAt: Date?
    public var status: RunStatus
    /// The status maintenance interrupted, restored when it ends.
    public var statusBeforeMaintenance: RunStatus?
    public var holds: [ContainerHold]
    public var history: [RunStatusChange]

    /// The trading services: holding one of them pauses the run.
    public static let tradingServices: Set<String> = ["cdb_core", "cdb_risk", "cdb_execution"]

    /// Day `n` of the run (day 1 from the start on), nil before the start.
    public func day(at time: Date) -> Int? {
        startedAt.map { Int(time.timeIntervalSince($0) / 86_400) + 1 }
    }

    public func hold(for service: String) -> ContainerHold? { holds.first { $0.service == service } }

    mutating func change(to status: RunStatus, by actor: String, reason: String, at time: Date) {
        guard status != self.status else { return }
        history.append(RunStatusChange(time: time, from: self.status, to: status, by: actor, reason: reason))
        self.status = status
    }

    enum CodingKeys: String, CodingKey {
        case id, status, holds, history
        case goAt = "go_at"
        case startedAt = "started_at"
        case statusBeforeMaintenance = "status_before_maintenance"
    }
}

/// A transition the run's status does not allow (maintenance of a stopped run, a second start of a running one).
public struct RunTransitionRefused: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The run's transitions, as pure functions of the current record: what each command does to it.
public enum RunTransitions {
    /// GO opens a new run unless one is live or starting; a GO during a run only confirms it.
    public static func go(_ current: RunRecord?, at time: Date) -> RunRecord {
        if let current, !current.status.isOver { return current }
        var run = RunRecord(id: "run-" + ReportsDirectory.stampFormatter.string(from: time), goAt: time, startedAt: nil,
                            status: .go, holds: [], history: [])
        run.history.append(RunStatusChange(time: time, from: nil, to: .go, by: "cdbctl go", reason: "GO"))
        return run
    }

    /// The start (OPERATIONAL) makes the run running; `start --force` without a GO opens one.
    public static func started(_ current: RunRecord?, at time: Date) -> RunRecord {
        var run = (current?.status.isOver ?? true) ? go(nil, at: time) : current!
        if run.startedAt == nil || run.status == .go { run.startedAt = time }
        run.holds.removeAll()
        run.statusBeforeMaintenance = nil
        run.change(to: .running, by: "cdbctl start", reason: "OPERATIONAL", at: time)
        return run
    }

    public static func stopping(_ current: RunRecord, mode: StopMode, reason: String?, at time: Date) -> RunRecord {
        var run = current
        run.change(to: .stopping, by: "cdbctl stop", reason: reason ?? "\(mode.rawValue) stop", at: time)
        return run
    }

    public static func stopped(_ current: RunRecord, mode: StopMode, at time: Date) -> RunRecord {
        var run = current
        run.change(to: .stopped, by: "cdbctl stop", reason: "\(mode.rawValue) stop: STOPPED", at: time)
        return run
    }

    public static func analysed(_ current: RunRecord, at time: Date) -> RunRecord {
        var run = current
        run.change(to: .analysed, by: "cdbctl postrun", reason: "final report written", at: time)
        return run
    }

    public static func maintenanceStarted(_ current: RunRecord?, reason: String, at time: Date) throws(RunTransitionRefused) -> RunRecord {
        guard var run = current, run.status.isLive || run.status == .go else {
            throw RunTransitionRefused(message: "no live run to put into maintenance (\(current.map { "run \($0.id) is \($0.status.rawValue)" } ?? "no run on record"))")
        }
        guard run.status != .maintenance else {
            throw RunTransitionRefused(message: "run \(run.id) is already in maintenance (since \(run.history.last.map { ISO8601DateFormatter().string(from: $0.time) } ?? "?"))")
        }
        run.statusBeforeMaintenance = run.status
        run.change(to: .maintenance, by: "operator", reason: reason, at: time)
        return run
    }

    public static func maintenanceEnded(_ current: RunRecord?, reason: String, at time: Date) throws(RunTransitionRefused) -> RunRecord {
        guard var run = current, run.status == .maintenance else {
            throw RunTransitionRefused(message: "no maintenance to end (\(current.map { "run \($0.id) is \($0.status.rawValue)" } ?? "no run on record"))")
        }
        let back = run.statusBeforeMaintenance ?? .running
        run.statusBeforeMaintenance = nil
        run.change(to: pausedOrRunning(run, otherwise: back), by: "operator", reason: reason, at: time)
        return run
    }

    /// A container stopped on purpose; holding a trading service pauses a running run. A container held already
    /// keeps its first hold: who stopped it and since when (a breaker run again each cycle changes neither).
    public static func held(_ current: RunRecord, _ hold: ContainerHold) -> RunRecord {
        var run = current
        guard run.hold(for: hold.service) == nil else { return run }
        run.holds.append(hold)
        if run.status == .running, RunRecord.tradingServices.contains(hold.service) {
            run.change(to: .paused, by: hold.by, reason: "\(hold.service) held: \(hold.reason)", at: hold.since)
        }
        return run
    }

    /// A held container started again; the run resumes when no trading service is held any more.
    public static func released(_ current: RunRecord, service: String, by actor: String, at time: Date) -> RunRecord {
        var run = current
        guard run.holds.contains(where: { $0.service == service }) else { return run }
        run.holds.removeAll { $0.service == service }
        if run.status == .paused {
            run.change(to: pausedOrRunning(run, otherwise: .running), by: actor, reason: "\(service) released", at: time)
        }
        return run
    }

    private static func pausedOrRunning(_ run: RunRecord, otherwise status: RunStatus) -> RunStatus {
        guard status == .running || status == .paused else { return status }
        return run.holds.contains { RunRecord.tradingServices.contains($0.service) } ? .paused : .running
    }
}

/// `reports/state/run.json`: the current run, written atomically (a crash never leaves half a file).
public struct RunJournal: Sendable {
    public var path: String
    public var reportsDirectory: String

    public init(reportsDirectory: String) {
        path = reportsDirectory + "/state/run.json"
        self.reportsDirectory = reportsDirectory
    }

    /// The run, nil when none is on record; an error naming the file when it is there but cannot be read (a
    /// caller that acts on holds must not take that for "no run").
    public func load() throws(ReportError) -> RunRecord? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try ReportsDirectory.decoder.decode(RunRecord.self, from: data)
        } catch {
            throw ReportError(message: "\(path) is unreadable (\((error as? DecodingError)?.summary ?? "\(error)"))")
        }
    }

    /// The run for readers that only show it; nil when none is on record or it is unreadable.
    public func current() -> RunRecord? {
        (try? load()) ?? nil
    }

    public func save(_ run: RunRecord) throws {
        try OperatorFiles.writePrivateJSON(run, to: path, under: reportsDirectory, masking: .urlPasswordsOnly)
    }

    /// Applies `transition` to the current run and saves the result; returns it.
    @discardableResult
    public func update(_ transition: (RunRecord?) throws -> RunRecord) throws -> RunRecord {
        let run = try transition(current())
        try save(run)
        return run
    }
}
