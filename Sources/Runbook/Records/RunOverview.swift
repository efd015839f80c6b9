import Foundation
import Primitives
import StackContract

/// `cdbctl status`: the run's state as the records under `reports/` and cdb_risk's `/status` tell it, the one
/// document an operator reads first. Assembled from what is given, so it works with the stack down.
public struct RunOverview: Sendable, Codable {
    public struct Trading: Sendable, Codable {
        public var state: String
        public var equity: Double
        public var dailyDrawdown: Double
        public var totalExposurePct: Double
        public var openPositions: Int

        enum CodingKeys: String, CodingKey {
            case state, equity
            case dailyDrawdown = "daily_drawdown"
            case totalExposurePct = "total_exposure_pct"
            case openPositions = "open_positions"
        }
    }

    public struct Cycle: Sendable, Codable {
        public var verdict: Verdict
        public var at: Date
        public var ageSeconds: Double
        /// Older than the schedule allows (its longest gap and CycleGap's grace) while the run is live.
        public var overdue: Bool
    }

    public var time: Date
    public var run: RunRecord?
    public var day: Int?
    /// The planned length of a run (seed §1: 7 days).
    public var plannedDays: Int
    /// cdb_risk's figures, or why they are not there.
    public var trading: Trading?
    public var tradingUnavailable: String?
    public var openAlarms: [LedgerAlarm]
    public var incidentsThisRun: [IncidentEntry]
    public var lastCycle: Cycle?
    /// Records under reports/ that exist but cannot be read.
    public var unreadable: [String]
    /// What cron runs next, by runbook.yaml's schedule (whether it is installed, `cdbctl schedule` tells).
    public var nextJob: NextJob?

    public struct NextJob: Sendable, Codable {
        public var id: String
        public var command: String
        public var at: Date
    }

    public static let plannedDays = 7

    public init(time: Date, run: RunRecord?, risk: Result<RiskStatus, any Error>?, ledger: AlarmLedger,
                incidents: [IncidentEntry], lastCycle: PhaseRecord?, unreadable: [String] = [], schedule: RunbookSchedule = RunbookSchedule()) {
        self.time = time
        nextJob = schedule.next(after: time).map { NextJob(id: $0.entry.id, command: "cdbctl " + $0.entry.run.joined(separator: " "), at: $0.at) }
        self.unreadable = unreadable
        self.run = run
        day = run?.day(at: time)
        plannedDays = Self.plannedDays
        switch risk {
        case .success(let status):
            trading = Trading(state: status.tradingState, equity: status.equity, dailyDrawdown: status.dailyDrawdown,
                              totalExposurePct: status.totalExposurePct, openPositions: status.openPositions.count)
        case .failure(let error): tradingUnavailable = "cdb_risk /status: \(error)"
        case nil: tradingUnavailable = "the stack is not meant to be up (run \(run?.status.rawValue ?? "not on record"))"
        }
        openAlarms = ledger.open
        let since = run?.goAt ?? .distantPast
        incidentsThisRun = incidents.filter { $0.time >= since }
        let allowed = (schedule.longestGap(of: "monitor") ?? .seconds(4 * 3600)).seconds + CycleGap.grace
        self.lastCycle = lastCycle.map {
            let age = time.timeIntervalSince($0.finishedAt)
            return Cycle(verdict: $0.verdict, at: $0.finishedAt, ageSeconds: age, overdue: age > allowed && run?.status.isLive == true)
        }
    }

    /// Human lines: what `cdbctl status` prints.
    public var lines: [String] {
        var lines = unreadable.map { "UNREADABLE: \($0)" }
        if let run {
            var head = "run \(run.id): \(run.status.rawValue.uppercased())"
            if let day { head += ", day \(day) of \(plannedDays)" + (day > plannedDays && !run.status.isOver ? " (past the planned end: cdbctl stop)" : "") }
            lines.append(head)
            lines.append("  GO \(Self.stamp(run.goAt))" + (run.startedAt.map { ", started \(Self.stamp($0))" } ?? ", not started"))
            if let change = run.history.last { lines.append("  since \(Self.stamp(change.time)): \(change.reason) (\(change.by))") }
            for hold in run.holds { lines.append("  held: \(hold.service) since \(Self.stamp(hold.since)) by \(hold.by) (\(hold.reason))") }
        } else {
            lines.append("no run on record (cdbctl preflight, then cdbctl go)")
        }
        if let trading {
            lines.append(String(format: "trading: %@, equity %.2f USD, daily drawdown %.2f %%, exposure %.2f %%, %d open position%@",
                                trading.state, trading.equity, trading.dailyDrawdown * 100, trading.totalExposurePct * 100,
                                trading.openPositions, trading.openPositions == 1 ? "" : "s"))
        } else if let tradingUnavailable {
            lines.append("trading: unknown (\(tradingUnavailable))")
        }
        if openAlarms.isEmpty {
            lines.append("alarms: none open")
        } else {
            lines.append("alarms: \(openAlarms.count) open")
            for alarm in openAlarms {
                lines.append("  \(alarm.severity.rawValue.uppercased()) \(alarm.key) since \(Self.stamp(alarm.firstSeen)) (\(alarm.cycles) cycle\(alarm.cycles == 1 ? "" : "s")): \(alarm.message)")
            }
        }
        lines.append("incidents this run: \(incidentsThisRun.count)" + (incidentsThisRun.last.map { ", last \($0.kind) of \($0.service) at \(Self.stamp($0.time)) (\($0.outcome ?? "open"))" } ?? ""))
        if let lastCycle {
            lines.append("last cycle: \(lastCycle.verdict) at \(Self.stamp(lastCycle.at)) (\(Self.age(lastCycle.ageSeconds)) ago)"
                + (lastCycle.overdue ? " OVERDUE: cron is not running the monitor (crontab -l, cdbctl schedule --install, reports/cron/monitor.log)" : ""))
        } else {
            lines.append("last cycle: none on record")
        }
        if let nextJob {
            lines.append("next scheduled: \(nextJob.command) (\(nextJob.id)) at \(Self.stamp(nextJob.at)), in \(Self.age(nextJob.at.timeIntervalSince(time)))")
        }
        return lines
    }

    static func stamp(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    static func age(_ seconds: Double) -> String {
        seconds < 3600 ? "\(Int(seconds / 60)) min" : String(format: "%.1f h", seconds / 3600)
    }

    enum CodingKeys: String, CodingKey {
        case time, run, day, trading, unreadable
        case nextJob = "next_job"
        case plannedDays = "planned_days"
        case tradingUnavailable = "trading_unavailable"
        case openAlarms = "open_alarms"
        case incidentsThisRun = "incidents_this_run"
        case lastCycle = "last_cycle"
    }
}
