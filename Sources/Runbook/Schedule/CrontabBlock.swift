import Foundation

/// The schedule as lines of a user crontab: a marked block cdbctl alone writes, replaces and removes, with the
/// runbook's UTC times converted to the host's time zone (cron runs in local time).
public struct CrontabBlock: Sendable, Encodable {
    public var project: String
    /// Absolute; with the project it names the block, so two checkouts keep two blocks.
    public var projectDirectory: String
    public var timeZone: String
    /// The zone's offset from UTC in minutes when the block was rendered (the one the times are converted by).
    public var utcOffsetMinutes: Int
    public var entries: [Line]
    /// Daylight saving time and what it does to the times; empty for a zone without it.
    public var warnings: [String]
    /// The block as it goes into the crontab, newline-terminated.
    public var text: String

    enum CodingKeys: String, CodingKey {
        case project, entries, warnings, text
        case projectDirectory = "project_directory"
        case timeZone = "time_zone"
        case utcOffsetMinutes = "utc_offset_minutes"
    }

    /// One entry's cron lines (one per distinct set of local days and hours).
    public struct Line: Sendable, Encodable {
        public var id: String
        public var run: [String]
        /// `minute hour day-of-month month day-of-week`, in the host's time zone.
        public var schedules: [String]
        /// What /bin/sh runs: `cd DIR && umask 077 && exec BIN ARGS >> LOG 2>&1`, every word single-quoted.
        public var command: String
    }

    /// Where a job runs and how it is invoked.
    public struct Invocation: Sendable {
        public var project: String
        public var projectDirectory: String
        /// The cdbctl binary, absolute.
        public var executable: String
        /// Absolute; the jobs' logs go to `<reports>/cron/<id>.log`.
        public var reportsDirectory: String
        /// Given to every job after its own arguments (e.g. `--reports-dir` when it is not the default).
        public var commonArguments: [String]
        /// cron's PATH for the jobs (pg_dump and the test tools are looked up on it).
        public var path: String

        public init(project: String, projectDirectory: String, executable: String, reportsDirectory: String,
                    commonArguments: [String] = [], path: String) {
            self.project = project
            self.projectDirectory = projectDirectory
            self.executable = executable
            self.reportsDirectory = reportsDirectory
            self.commonArguments = commonArguments
            self.path = path
        }

        public var beginMarker: String { "# BEGIN cdbctl \(project) \(projectDirectory)" }
        public var endMarker: String { "# END cdbctl \(project) \(projectDirectory)" }
    }

    /// Renders `schedule` for `invocation` in `timeZone` as of `now` (its offset then; DST is warned about).
    public init(_ schedule: RunbookSchedule, invocation: Invocation, timeZone: TimeZone, now: Date = Date()) throws(ScheduleError) {
        for (what, value) in [("project", invocation.project), ("project directory", invocation.projectDirectory),
                              ("cdbctl binary", invocation.executable), ("reports directory", invocation.reportsDirectory),
                              ("PATH", invocation.path)] + invocation.commonArguments.map({ ("argument", $0) }) {
            // No quoting survives cron: it ends the command at '%' and the line at a newline.
            if value.contains(where: \.isNewline) || value.contains("%") {
                throw ScheduleError(message: "the \(what) '\(value)' contains a newline or '%', which a crontab line cannot carry")
            }
        }
        for (what, value) in [("project directory", invocation.projectDirectory), ("cdbctl binary", invocation.executable),
                              ("reports directory", invocation.reportsDirectory)] where !value.hasPrefix("/") {
            throw ScheduleError(message: "the \(what) '\(value)' must be an absolute path: cron starts jobs in the home directory")
        }
        let offset = timeZone.secondsFromGMT(for: now) / 60
        project = invocation.project
        projectDirectory = invocation.projectDirectory
        self.timeZone = timeZone.identifier
        utcOffsetMinutes = offset
        warnings = Self.daylightSavingWarnings(timeZone, now: now, hasEntries: !schedule.entries.isEmpty)
        entries = schedule.entries.map { entry in
            let words = [invocation.executable] + entry.run + invocation.commonArguments
            let log = "\(invocation.reportsDirectory)/cron/\(entry.id).log"
            let command = "cd \(ShellQuoting.quote(invocation.projectDirectory)) && umask 077 && exec "
                + words.map(ShellQuoting.quote).joined(separator: " ") + " >> \(ShellQuoting.quote(log)) 2>&1"
            return Line(id: entry.id, run: entry.run, schedules: Self.cronSchedules(utcMinutesOfWeek: entry.utcMinutesOfWeek, offsetMinutes: offset),
                        command: command)
        }
        var lines = [invocation.beginMarker,
                     "# Written by cdbctl schedule --install from runbook.yaml's schedule (UTC), converted to \(timeZone.identifier) "
                        + "(UTC\(Self.offsetText(offset))). Edits here are replaced; change runbook.yaml instead.",
                     "PATH=\(invocation.path)"]
        for entry in entries {
            lines.append("# \(entry.id): cdbctl \(entry.run.joined(separator: " "))")
            lines += entry.schedules.map { "\($0) \(entry.command)" }
        }
        lines.append(invocation.endMarker)
        text = lines.joined(separator: "\n") + "\n"
    }

    /// The cron schedules (`m h * * dow`) that fire exactly at the UTC minutes of the week given, shifted by
    /// `offsetMinutes` into local time. A shift across midnight moves those firings to the neighbouring weekday,
    /// so one UTC entry may need several lines.
    public static func cronSchedules(utcMinutesOfWeek: Set<Int>, offsetMinutes: Int) -> [String] {
        let week = Weekday.minutesPerWeek, day = Weekday.minutesPerDay
        let local = utcMinutesOfWeek.map { (($0 + offsetMinutes) % week + week) % week }
        // Time of day → the days it fires then; (minute, days) → the hours; (days, hours) → the minutes: one line each.
        struct MinuteAndDays: Hashable { var minute: Int; var days: [Int] }
        struct DaysAndHours: Hashable { var days: [Int]; var hours: [Int] }
        var daysAtTime: [Int: Set<Int>] = [:]
        for minuteOfWeek in local { daysAtTime[minuteOfWeek % day, default: []].insert(minuteOfWeek / day) }
        var hours: [MinuteAndDays: Set<Int>] = [:]
        for (time, days) in daysAtTime { hours[MinuteAndDays(minute: time % 60, days: days.sorted()), default: []].insert(time / 60) }
        var minutes: [DaysAndHours: Set<Int>] = [:]
        for (key, hoursOfKey) in hours { minutes[DaysAndHours(days: key.days, hours: hoursOfKey.sorted()), default: []].insert(key.minute) }
        return minutes.map { (group: $0.key, minutes: $0.value.sorted()) }
            .sorted { ($0.group.days[0], $0.group.hours[0], $0.minutes[0]) < ($1.group.days[0], $1.group.hours[0], $1.minutes[0]) }
            .map { "\(cronList($0.minutes, count: 60)) \(cronList($0.group.hours, count: 24)) * * \(cronList($0.group.days, count: 7))" }
    }

    /// `*` for every value, else the values with runs of three or more written as ranges (`1-5`).
    static func cronList(_ values: [Int], count: Int) -> String {
        if values.count == count { return "*" }
        var parts: [String] = []
        var index = 0
        while index < values.count {
            var end = index
            while end + 1 < values.count, values[end + 1] == values[end] + 1 { end += 1 }
            if end - index >= 2 {
                parts.append("\(values[index])-\(values[end])")
            } else {
                parts += values[index...end].map(String.init)
            }
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// `+05:30`, `-04:00`, `+00:00`.
    static func offsetText(_ minutes: Int) -> String {
        let magnitude = abs(minutes)
        let hours = magnitude / 60, rest = magnitude % 60
        return (minutes < 0 ? "-" : "+") + (hours < 10 ? "0" : "") + "\(hours):" + (rest < 10 ? "0" : "") + "\(rest)"
    }

    /// For a zone with daylight saving time: the offset changes on the next two transitions, so the converted times
    /// run an hour off the runbook's UTC between them.
    static func daylightSavingWarnings(_ timeZone: TimeZone, now: Date, hasEntries: Bool) -> [String] {
        guard hasEntries, let first = timeZone.nextDaylightSavingTimeTransition(after: now) else { return [] }
        let offsetNow = timeZone.secondsFromGMT(for: now) / 60
        let offsetAfter = timeZone.secondsFromGMT(for: first.addingTimeInterval(1)) / 60
        guard offsetAfter != offsetNow else { return [] }
        let second = timeZone.nextDaylightSavingTimeTransition(after: first.addingTimeInterval(1))
        let day = Date.ISO8601FormatStyle(timeZone: timeZone).year().month().day()
        let until = second.map { " until \($0.formatted(day))" } ?? ""
        let shift = offsetAfter - offsetNow
        let direction = shift > 0 ? "earlier" : "later"
        return ["\(timeZone.identifier) observes daylight saving time: these cron times are for its offset now (UTC\(offsetText(offsetNow))); "
                + "from \(first.formatted(day))\(until) it is UTC\(offsetText(offsetAfter)) and every job runs "
                + "\(abs(shift)) min \(direction) than the runbook's UTC time. Run cdbctl schedule --install again after each change, "
                + "or set the host to UTC."]
    }
}

/// A schedule that cannot be rendered or installed.
public struct ScheduleError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }
}

/// Quoting for /bin/sh, the one shell cdbctl's words pass through (cron hands each crontab line to it).
public enum ShellQuoting {
    /// `word` as one sh word, taken literally: single-quoted, each `'` written as `'\''`.
    public static func quote(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
