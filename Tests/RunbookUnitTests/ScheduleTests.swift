import Foundation
import Runbook
import Testing

/// A schedule of one entry parsed from runbook text (the messages of a bad one come back as the error).
private func schedule(_ entries: String) throws -> RunbookSchedule {
    try RunbookDefinition.parse("version: 1\nphases: {}\nschedule:\n" + entries, file: "runbook.yaml", baseDirectory: repositoryRoot.path).schedule
}

private func scheduleMessages(_ entries: String) -> [String] {
    validationMessages("version: 1\nphases: {}\nschedule:\n" + entries)
}

/// 2 December 2026: New York at UTC-5, Auckland at UTC+13 (its summer), Kolkata at UTC+5:30 all year.
private let december = Date(timeIntervalSince1970: 1_796_169_600)

private func cron(_ entries: String, in zone: String, at now: Date = december) throws -> [String] {
    let timeZone = try #require(TimeZone(identifier: zone))
    let offset = timeZone.secondsFromGMT(for: now) / 60
    return try schedule(entries).entries.flatMap { CrontabBlock.cronSchedules(utcMinutesOfWeek: $0.utcMinutesOfWeek, offsetMinutes: offset) }
}

private let invocation = CrontabBlock.Invocation(
    project: "cdb", projectDirectory: "/srv/o'brien runs/cdb", executable: "/opt/cdb/.build/release/cdbctl",
    reportsDirectory: "/srv/o'brien runs/cdb/reports", path: "/usr/local/bin:/usr/bin:/bin")

@Suite("runbook.yaml's schedule: decoded, converted from UTC, rendered for cron")
struct ScheduleTests {
    @Test("the project's runbook schedules seed §4's cycle, §6.1/§6.2 on weekdays and §6.3's weekend check")
    func projectSchedule() throws {
        let definition = try RunbookDefinition.load(path: repositoryRoot.appendingPathComponent("runbook.yaml").path)
        let entries = Dictionary(uniqueKeysWithValues: definition.schedule.entries.map { ($0.id, $0) })
        #expect(entries["monitor"]?.run == ["monitor", "--remediate"])
        #expect(entries["monitor"]?.timing == .every(minutes: 240))
        #expect(entries["morning-check"]?.timing == .at([TimeOfDay(hour: 9, minute: 0)!]))
        #expect(entries["evening-review"]?.days == [.mon, .tue, .wed, .thu, .fri])
        #expect(entries["weekend-check"]?.days == [.sun, .sat])
        #expect(entries["weekend-check"]?.timing == .every(minutes: 720))
    }

    @Test("in UTC the cron times are the runbook's")
    func utc() throws {
        #expect(try cron("  - { id: m, run: [monitor], every: 4h }", in: "UTC") == ["0 0,4,8,12,16,20 * * *"])
        #expect(try cron("  - { id: e, run: [report, evening], at: \"21:00\", days: [mon, tue, wed, thu, fri] }", in: "UTC") == ["0 21 * * 1-5"])
    }

    @Test("21:00 UTC on weekdays is Tuesday to Saturday morning in Auckland, and the same weekdays in New York")
    func acrossMidnight() throws {
        let evening = "  - { id: e, run: [report, evening], at: \"21:00\", days: [mon, tue, wed, thu, fri] }"
        #expect(try cron(evening, in: "Pacific/Auckland") == ["0 10 * * 2-6"])
        #expect(try cron(evening, in: "America/New_York") == ["0 16 * * 1-5"])
        // In the New Zealand winter (UTC+12), an hour earlier, still the next day.
        #expect(try cron(evening, in: "Pacific/Auckland", at: Date(timeIntervalSince1970: 1_783_000_000)) == ["0 9 * * 2-6"])
        // Early UTC times fall on the evening before in New York.
        #expect(try cron("  - { id: x, run: [health], at: \"02:00\", days: [mon, tue, wed, thu, fri] }", in: "America/New_York") == ["0 21 * * 0-4"])
    }

    @Test("a zone half an hour off UTC shifts the minutes too: 09:00 UTC is 14:30 in Kolkata")
    func halfHourZone() throws {
        #expect(try cron("  - { id: m, run: [report, morning], at: \"09:00\" }", in: "Asia/Kolkata") == ["30 14 * * *"])
        #expect(try cron("  - { id: m, run: [monitor], every: 4h }", in: "Asia/Kolkata") == ["30 1,5,9,13,17,21 * * *"])
    }

    @Test("the weekend's 12-hourly check splits where a firing crosses midnight in New York")
    func weekendSplit() throws {
        #expect(try cron("  - { id: w, run: [health], every: 12h, days: [sat, sun] }", in: "America/New_York") == ["0 7 * * 0,6", "0 19 * * 5,6"])
    }

    @Test("a zone with daylight saving time is warned about, naming the dates; Kolkata and UTC are not")
    func daylightSaving() throws {
        let entries = try schedule("  - { id: m, run: [monitor], every: 4h }")
        let berlin = try CrontabBlock(entries, invocation: invocation, timeZone: TimeZone(identifier: "Europe/Berlin")!, now: december)
        #expect(berlin.warnings.count == 1)
        #expect(berlin.warnings.first?.contains("from 2027-03-28 until 2027-10-31 it is UTC+02:00 and every job runs 60 min earlier") == true,
                "\(berlin.warnings)")
        #expect(berlin.utcOffsetMinutes == 60)
        for zone in ["Asia/Kolkata", "UTC"] {
            #expect(try CrontabBlock(entries, invocation: invocation, timeZone: TimeZone(identifier: zone)!, now: december).warnings.isEmpty)
        }
    }

    @Test("the block: markers, PATH, and every word of each job single-quoted for /bin/sh")
    func blockText() throws {
        let entries = try schedule("  - { id: monitor, run: [monitor, --remediate], every: 12h }")
        let block = try CrontabBlock(entries, invocation: invocation, timeZone: TimeZone(identifier: "UTC")!, now: december)
        let lines = block.text.split(separator: "\n").map(String.init)
        #expect(lines.first == "# BEGIN cdbctl cdb /srv/o'brien runs/cdb")
        #expect(lines.last == "# END cdbctl cdb /srv/o'brien runs/cdb")
        #expect(lines.contains("PATH=/usr/local/bin:/usr/bin:/bin"))
        #expect(lines.contains(#"0 0,12 * * * cd '/srv/o'\''brien runs/cdb' && umask 077 && exec '/opt/cdb/.build/release/cdbctl' 'monitor' '--remediate' >> '/srv/o'\''brien runs/cdb/reports/cron/monitor.log' 2>&1"#),
                "\(block.text)")
    }

    @Test("quoted words reach a program through /bin/sh exactly as they were")
    func quotingIsAirtight() throws {
        let words = ["plain", "two words", "it's", "'", "''", "$HOME", "`id`", "$(id)", "a\\b", "\"", "*", ";", "&&", "#", "~", "!x", "\t", "ü€"]
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "printf '[%s]\\n' " + words.map(ShellQuoting.quote).joined(separator: " ")]
        let output = Pipe()
        shell.standardOutput = output
        try shell.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        shell.waitUntilExit()
        #expect(String(decoding: data, as: UTF8.self) == words.map { "[\($0)]\n" }.joined())
    }

    @Test("a path cron cannot carry is refused")
    func pathWithPercent() throws {
        var broken = invocation
        broken.projectDirectory = "/srv/100%"
        #expect(throws: ScheduleError.self) { try CrontabBlock(RunbookSchedule(), invocation: broken, timeZone: TimeZone(identifier: "UTC")!) }
    }

    @Test("mistakes are located errors: an unknown job with a suggestion, '%' or a newline, a bad interval or time")
    func errors() {
        #expect(scheduleMessages("  - { id: m, run: [monitr], every: 4h }")
            == ["runbook.yaml:4:19: schedule 'm'.run: unknown cdbctl job 'monitr' (did you mean 'monitor'?); jobs: monitor, report morning, report evening, report daily, health, validate"])
        #expect(scheduleMessages("  - { id: m, run: [report, mornin], at: \"09:00\" }").first?.contains("unknown cdbctl job 'report mornin' (did you mean 'report morning'?)") == true)
        #expect(scheduleMessages("  - { id: m, run: [monitor, --remediat], every: 4h }").first?.contains("'--remediat' is not a flag of 'monitor' in a schedule (did you mean '--remediate'?)") == true)
        #expect(scheduleMessages("  - { id: m, run: [monitor, \"50%\"], every: 4h }").first?.hasPrefix("runbook.yaml:4:29: schedule 'm'.run: '50%' contains a newline or '%'") == true)
        #expect(scheduleMessages("  - { id: m, run: [monitor, \"a\\nb\"], every: 4h }").first?.contains("contains a newline or '%'") == true)
        #expect(scheduleMessages("  - { id: m, run: [monitor], every: 5h }").first?.contains("schedule 'm'.every: cron repeats within a day") == true)
        #expect(scheduleMessages("  - { id: m, run: [monitor], at: \"25:00\" }").first?.contains("schedule 'm'.at: expected a UTC time like \"09:00\", got '25:00'") == true)
        #expect(scheduleMessages("  - { id: m, run: [monitor], evry: 4h }").contains { $0.contains("unknown key 'evry' (did you mean 'every'?)") })
        #expect(scheduleMessages("  - { id: m, run: [health], every: 4h, days: [mon, fry] }").first?.contains("expected a weekday") == true)
        #expect(scheduleMessages("  - { id: m, run: [health], every: 4h }\n  - { id: m, run: [health], every: 6h }").first?.contains("duplicate id") == true)
        #expect(scheduleMessages("  - { id: My Job, run: [health], every: 4h }").first?.contains("use lower-case letters, digits and '-'") == true)
    }

    @Test("install puts the block last and keeps the user's lines byte for byte; again changes nothing; remove restores them")
    func crontabText() throws {
        let block = try CrontabBlock(try schedule("  - { id: m, run: [monitor], every: 4h }"), invocation: invocation, timeZone: TimeZone(identifier: "UTC")!).text
        let user = "MAILTO=me@example.org\n# mine  \n*/5 * * * * /usr/bin/true 'x'  \\% y\t\n"
        let installed = try CrontabText.installing(block, invocation: invocation, into: user)
        #expect(installed.text == user + block)
        #expect(!installed.replaced)
        #expect(try CrontabText.installing(block, invocation: invocation, into: installed.text).text == installed.text)
        #expect(try CrontabText.removing(invocation: invocation, from: installed.text) == user)
        #expect(try CrontabText.removing(invocation: invocation, from: user) == nil)
        // An older block in the middle is replaced by one at the end; the lines around it stay.
        let middle = "a\n" + block + "b\n"
        let replaced = try CrontabText.installing(block, invocation: invocation, into: middle)
        #expect(replaced.text == "a\nb\n" + block && replaced.replaced)
        // Another checkout's block is not this one's.
        var other = invocation
        other.projectDirectory = "/elsewhere"
        #expect(try CrontabText.removing(invocation: other, from: installed.text) == nil)
        #expect(try CrontabText.installing(block, invocation: invocation, into: "no newline at the end").text == "no newline at the end\n" + block)
        #expect(throws: ScheduleError.self) { try CrontabText.removing(invocation: invocation, from: invocation.beginMarker + "\nx\n") }
    }
}
