import ArgumentParser
import Foundation
import Primitives
import Runbook

/// `cdbctl schedule`: runbook.yaml's `schedule:` as a block of the user's crontab, printed, installed or removed.
struct Schedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print runbook.yaml's schedule as a crontab block; --install puts it in your crontab, --remove takes it out.",
        discussion: """
        The block is marked '# BEGIN cdbctl <project> <dir>' … '# END …'; --install replaces it (or appends it) and --remove \
        deletes it, both leaving every other line of the crontab as it was; running either twice changes nothing. The \
        runbook's UTC times are converted to this host's time zone (TZ or /etc/localtime). Each job runs \
        'cd <dir> && umask 077 && exec <cdbctl> <args> >> <reports>/cron/<id>.log 2>&1'. Exit 0 when done, 2 on an \
        invalid runbook.yaml or a crontab that cannot be edited.
        """)

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Install (or replace) the block in your crontab.")
    var install = false

    @Flag(help: "Remove the block from your crontab.")
    var remove = false

    func validate() throws {
        if install && remove { throw ValidationError("--install and --remove exclude each other") }
    }

    /// What `--json` prints.
    struct Output: Encodable {
        var block: CrontabBlock
        var change: UserCrontab.Change?
        var cronDaemonRunning: Bool

        enum CodingKeys: String, CodingKey {
            case block, change
            case cronDaemonRunning = "cron_daemon_running"
        }
    }

    func run() async throws {
        let definition = try options.loadRunbook()
        let invocation = try jobInvocation(project: definition.settings.project)
        let block: CrontabBlock
        do {
            block = try CrontabBlock(definition.schedule, invocation: invocation, timeZone: .current)
        } catch {
            throw CommandFailure.usage("\(error)")
        }
        block.warnings.forEach { StandardError.write("cdbctl: warning: \($0)\n") }
        var change: UserCrontab.Change?
        do {
            if install {
                try ReportsDirectory(path: invocation.reportsDirectory).privateDirectory("cron")
                change = try await UserCrontab().install(block, invocation: invocation)
            } else if remove {
                change = try await UserCrontab().remove(invocation: invocation)
            }
        } catch {
            throw CommandFailure.usage("\(error)")
        }
        let daemonRunning = CronDaemon.isRunning()
        if !remove && !daemonRunning { StandardError.write("cdbctl: warning: \(CronDaemon.startAdvice)\n") }
        if options.json {
            print(TableOutput.json(Output(block: block, change: change, cronDaemonRunning: daemonRunning)))
        } else if let change {
            print("crontab: \(change.rawValue) (\(invocation.beginMarker))")
        } else {
            print(block.text, terminator: "")
        }
    }

    /// The jobs run this binary, in the project's directory, with this command's runbook, reports and .env
    /// wherever they differ from what the directory gives by default.
    private func jobInvocation(project: String) throws(CommandFailure) -> CrontabBlock.Invocation {
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
        let directory = absolute(options.projectDirectory)
        let reports = absolute(options.reportsDir)
        var common: [String] = []
        if absolute(options.runbook) != directory + "/runbook.yaml" { common += ["--runbook", absolute(options.runbook)] }
        if reports != directory + "/reports" { common += ["--reports-dir", reports] }
        if let envFile = options.envFile { common += ["--env-file", absolute(envFile)] }
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            throw .usage("cannot tell where this cdbctl binary is (/proc/self/exe unreadable)")
        }
        return CrontabBlock.Invocation(project: project, projectDirectory: directory, executable: executable, reportsDirectory: reports,
                                       commonArguments: common, path: ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
    }
}
