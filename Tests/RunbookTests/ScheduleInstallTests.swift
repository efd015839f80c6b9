import ChildProcesses
import Foundation
import LocalServers
import RunReports
import Runbook
import Testing

/// The user's crontab is one per user and crontab has no other place to write it: these tests use the real
/// crontab of the user running them (root here), save it first and put it back byte for byte afterwards.
@Suite("cdbctl schedule --install / --remove with the real crontab", .serialized)
struct ScheduleInstallTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `body` with the user's crontab set to `initial`, restoring what was there before whatever happens.
    func withCrontab(_ initial: String, _ body: (UserCrontab) async throws -> Void) async throws {
        let crontab = try UserCrontab()
        let saved = try await crontab.read()
        func set(_ text: String) async throws {
            if text.isEmpty {
                _ = try await runCommand(crontab.executable, ["-r"], timeout: .seconds(30))
            } else {
                let file = try scratchDirectory("crontab").appendingPathComponent("crontab")
                try Data(text.utf8).write(to: file)
                let installed = try await runCommand(crontab.executable, [file.path], timeout: .seconds(30))
                #expect(installed.status == 0, "\(installed.output)")
            }
        }
        try await set(initial)
        do {
            try await body(crontab)
        } catch {
            try await set(saved)
            throw error
        }
        try await set(saved)
        #expect(try await crontab.read() == saved)
    }

    @Test("install adds the block after the user's lines, kept byte for byte; again changes nothing; remove leaves exactly the user's lines")
    func installAndRemove() async throws {
        let user = "MAILTO=\"\"\n# the operator's own line, trailing blanks kept   \n17 3 * * 0 /usr/bin/true 'a  b' \\%x\t\n"
        let reports = try scratchDirectory("schedule-reports")
        func cdbctl(_ arguments: [String]) async throws -> CommandOutput {
            try await CDBCtl.run(["schedule"] + arguments + ["--reports-dir", reports.path], in: Self.root, environment: ["TZ": "Asia/Kolkata"])
        }
        try await withCrontab(user) { crontab in
            let installed = try await cdbctl(["--install"])
            #expect(installed.status == 0, "\(installed.output)")
            #expect(installed.output.contains("crontab: installed (# BEGIN cdbctl cdb \(Self.root.path))"), "\(installed.output)")
            let table = try await crontab.read()
            #expect(table.hasPrefix(user), "\(table)")
            let block = table.dropFirst(user.count)
            #expect(block.hasPrefix("# BEGIN cdbctl cdb \(Self.root.path)\n") && block.hasSuffix("# END cdbctl cdb \(Self.root.path)\n"), "\(block)")
            // 09:00 UTC on weekdays in Kolkata, the binary by its absolute path, the log in the reports directory.
            #expect(block.contains("30 14 * * 1-5 cd '\(Self.root.path)' && umask 077 && exec '\(URL(fileURLWithPath: CDBCtl.path).resolvingSymlinksInPath().path)' 'report' 'morning' '--reports-dir' '\(reports.path)' >> '\(reports.path)/cron/morning-check.log' 2>&1"),
                    "\(block)")
            #expect(try FileManager.default.attributesOfItem(atPath: reports.appendingPathComponent("cron").path)[.posixPermissions] as? Int == 0o700)

            let again = try await cdbctl(["--install"])
            #expect(again.output.contains("crontab: unchanged"), "\(again.output)")
            #expect(try await crontab.read() == table)

            let removed = try await cdbctl(["--remove"])
            #expect(removed.status == 0 && removed.output.contains("crontab: removed"), "\(removed.output)")
            #expect(try await crontab.read() == user)
            let absent = try await cdbctl(["--remove"])
            #expect(absent.output.contains("crontab: absent"), "\(absent.output)")
            #expect(try await crontab.read() == user)
        }
    }

    @Test("a user without a crontab has none again after install and remove; --json names the change and the offset")
    func noCrontabBefore() async throws {
        try await withCrontab("") { crontab in
            let installed = try await CDBCtl.run(["schedule", "--install", "--json"], in: Self.root, environment: ["TZ": "UTC"])
            #expect(installed.status == 0, "\(installed.output)")
            #expect(installed.output.contains(#""change" : "installed""#) && installed.output.contains(#""utc_offset_minutes" : 0"#), "\(installed.output)")
            #expect(try await crontab.read().hasPrefix("# BEGIN cdbctl cdb "))
            _ = try await CDBCtl.run(["schedule", "--remove"], in: Self.root)
            #expect(try await crontab.read() == "")
        }
    }

    @Test("every job a schedule may name is a cdbctl command taking the flags allowed for it; report's are ReportKind's kinds")
    func jobsExist() async throws {
        #expect(Set(CDBCtlJob.all.filter { $0.command.first == "report" }.map { $0.command[1] }) == Set(ReportKind.allCases.map(\.rawValue)))
        for job in CDBCtlJob.all {
            let help = try await CDBCtl.run([job.command[0], "--help"], in: Self.root)
            #expect(help.status == 0, "\(job.name): \(help.output)")
            for flag in job.flags { #expect(help.output.contains(flag), "\(job.name) takes no \(flag)") }
        }
    }
}
