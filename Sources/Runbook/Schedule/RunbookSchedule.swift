import Foundation
import Primitives
import YAMLParser

/// runbook.yaml's `schedule:`: which cdbctl jobs run when, in UTC (the seed's times).
public struct RunbookSchedule: Sendable {
    /// The next job cron runs after `time` (UTC), and when; nil for an empty schedule.
    public func next(after time: Date) -> (entry: ScheduleEntry, at: Date)? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: time)
        let week: Int = 7 * Weekday.minutesPerDay
        let day: Int = (parts.weekday ?? 1) - 1
        let now: Int = day * Weekday.minutesPerDay + (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let startOfMinute = time.addingTimeInterval(-time.timeIntervalSince1970.truncatingRemainder(dividingBy: 60))
        var best: (entry: ScheduleEntry, minutesAhead: Int)?
        for entry in entries {
            for minute in entry.utcMinutesOfWeek {
                // Strictly later: 1 … a week ahead.
                let ahead = (minute - now - 1 + week) % week + 1
                if best == nil || ahead < best!.minutesAhead { best = (entry, ahead) }
            }
        }
        return best.map { ($0.entry, startOfMinute.addingTimeInterval(Double($0.minutesAhead) * 60)) }
    }

    /// The longest gap between two runs of `job` (the monitor's: a later cycle is a missed one); nil when it never runs.
    public func longestGap(of job: String) -> Duration? {
        let minutes = entries.filter { $0.run.first == job }.flatMap(\.utcMinutesOfWeek).sorted()
        guard let first = minutes.first else { return nil }
        let following: [Int] = Array(minutes.dropFirst()) + [first + 7 * Weekday.minutesPerDay]
        let longest = zip(minutes, following).map { $1 - $0 }.max() ?? 0
        return .seconds(longest * 60)
    }

    /// In file order.
    public var entries: [ScheduleEntry]

    public init(entries: [ScheduleEntry] = []) {
        self.entries = entries
    }
}

/// One scheduled job: a cdbctl command line (argv, never a shell string) and when it runs.
public struct ScheduleEntry: Sendable {
    /// Names the entry and its log, `reports/cron/<id>.log`.
    public var id: String
    /// cdbctl's arguments, e.g. `["monitor", "--remediate"]`.
    public var run: [String]
    public var timing: ScheduleTiming
    /// The UTC weekdays it runs on, in cron's order; all seven when the entry names none.
    public var days: [Weekday]
    public var mark: YAMLMark

    public init(id: String, run: [String], timing: ScheduleTiming, days: [Weekday] = Weekday.allCases, mark: YAMLMark) {
        self.id = id
        self.run = run
        self.timing = timing
        self.days = days
        self.mark = mark
    }

    /// Every UTC minute of the week (0 = Sunday 00:00) the entry fires at.
    public var utcMinutesOfWeek: Set<Int> {
        let times = timing.minutesOfDay
        return Set(days.flatMap { day in times.map { day.cronNumber * Weekday.minutesPerDay + $0 } })
    }
}

/// When an entry runs within a day (UTC).
public enum ScheduleTiming: Sendable, Equatable {
    /// From 00:00 UTC on, every this many minutes (a divisor of a day).
    case every(minutes: Int)
    /// At these times of day.
    case at([TimeOfDay])

    /// The UTC minutes of the day it fires at, ascending.
    public var minutesOfDay: [Int] {
        switch self {
        case .every(let minutes): Array(stride(from: 0, to: Weekday.minutesPerDay, by: minutes))
        case .at(let times): times.map(\.minuteOfDay).sorted()
        }
    }
}

/// `HH:MM`, a time of day.
public struct TimeOfDay: Sendable, Hashable, YAMLScalarDecodable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int

    public init?(hour: Int, minute: Int) {
        guard (0..<24).contains(hour), (0..<60).contains(minute) else { return nil }
        self.hour = hour
        self.minute = minute
    }

    public init?(yamlScalar text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]) else { return nil }
        self.init(hour: hour, minute: minute)
    }

    public static var yamlTypeName: String { "a UTC time like \"09:00\"" }
    /// Minutes since 00:00.
    public var minuteOfDay: Int { hour * 60 + minute }
    public var description: String { String(hour / 10) + String(hour % 10) + ":" + String(minute / 10) + String(minute % 10) }
}

/// A day of the week, as cron numbers them (Sunday 0).
public enum Weekday: String, Sendable, CaseIterable, YAMLScalarDecodable {
    case sun, mon, tue, wed, thu, fri, sat

    public init?(yamlScalar text: String) { self.init(rawValue: text) }
    public static var yamlTypeName: String { "a weekday (sun, mon, tue, wed, thu, fri, sat)" }

    /// Cron's day-of-week number: 0 for Sunday to 6 for Saturday.
    public var cronNumber: Int { Weekday.allCases.firstIndex(of: self)! }
    static let minutesPerDay = 24 * 60
    static let minutesPerWeek = 7 * minutesPerDay
}

/// A cdbctl command that may run unattended, with the flags it may be given there. The one list of them:
/// the schedule accepts nothing else, so a typo is caught by `cdbctl validate`, not by a silent cron mail.
public struct CDBCtlJob: Sendable, Equatable {
    /// The subcommand path with its argument, e.g. `["report", "morning"]`.
    public var command: [String]
    public var flags: [String]

    /// As an operator types it after `cdbctl`, e.g. `report morning`.
    public var name: String { command.joined(separator: " ") }

    /// Seed §4 (the monitoring cycle, its daily backup), §6.1/§6.2 (the reviews), §6.3 (the weekend's minimal check).
    public static let all: [CDBCtlJob] = [
        CDBCtlJob(command: ["monitor"], flags: ["--remediate"]),
        CDBCtlJob(command: ["report", "morning"], flags: []),
        CDBCtlJob(command: ["report", "evening"], flags: []),
        CDBCtlJob(command: ["report", "daily"], flags: []),
        CDBCtlJob(command: ["health"], flags: []),
        CDBCtlJob(command: ["validate"], flags: []),
    ]

    /// Why `run` is no job cdbctl can run unattended, or nil when it is one.
    static func problem(with run: [String]) -> String? {
        guard let job = all.filter({ run.starts(with: $0.command) }).max(by: { $0.command.count < $1.command.count }) else {
            let names = all.map(\.name)
            // A command group (report) is named with its argument; any other command by its name alone.
            let isGroup = all.contains { $0.command.count > 1 && $0.command[0] == run[0] }
            let asked = run.prefix(isGroup ? 2 : 1).joined(separator: " ")
            var message = "unknown cdbctl job '\(asked)'"
            if let suggestion = closestMatch(to: asked, among: names) ?? closestMatch(to: run.first ?? "", among: names) {
                message += " (did you mean '\(suggestion)'?)"
            }
            return message + "; jobs: " + names.joined(separator: ", ")
        }
        var given: Set<String> = []
        for flag in run.dropFirst(job.command.count) {
            guard job.flags.contains(flag) else {
                var message = "'\(flag)' is not a flag of '\(job.name)' in a schedule"
                if let suggestion = closestMatch(to: flag, among: job.flags) { message += " (did you mean '\(suggestion)'?)" }
                return message + (job.flags.isEmpty ? "; it takes none" : "; it takes \(job.flags.joined(separator: ", "))")
            }
            guard given.insert(flag).inserted else { return "'\(flag)' is given twice" }
        }
        return nil
    }
}
