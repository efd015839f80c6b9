import ArgumentParser
import Foundation
import Primitives
import Runbook
import StackContract

/// `cdbctl`: the Claire de Binare runbook as a command.
@main
struct CDBCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cdbctl",
        abstract: "Run the Claire de Binare paper-trading runbook.",
        discussion: """
        Exit codes: 0 pass / GO, 1 a check failed / NO-GO / an alarm, 2 usage or configuration error (including an invalid runbook.yaml), 3 another cdbctl run holds the lock.

        Settings come from the environment and from --env-file (default: ./.env when present); the process environment wins over the file. Every run writes a JSON and a Markdown record under --reports-dir and appends its actions to <reports-dir>/audit.jsonl.
        """,
        version: CDBVersion.current,
        subcommands: [Validate.self, Plan.self, Preflight.self, Go.self, Start.self, Status.self, Monitor.self, Incident.self, Maintenance.self, Hold.self,
                      Release.self, Stop.self, Report.self, PostRun.self, Risk.self, Health.self, Env.self, Notify.self, Schedule.self])
}

extension CDBCtl {
    /// ArgumentParser's own entry point, and the one place a command's end becomes an exit code: a
    /// `CommandFailure` is printed and exits with its code, and a usage error (unknown flag, bad value) exits 2 as
    /// the documented exit codes say, not 64 (sysexits' EX_USAGE).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            if let message = failure.message { StandardError.write("cdbctl: \(message)\n") }
            Foundation.exit(failure.exitCode)
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ConfigurationError.exitCode)
            }
            exit(withError: error)
        }
    }
}

/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Read settings from this .env file (default: ./.env when it exists).")
    var envFile: String?

    @Flag(help: "Print one machine-readable JSON document instead of a table.")
    var json = false

    @Option(help: "The runbook to execute.")
    var runbook = "runbook.yaml"

    @Option(help: "The compose project whose containers are checked (default: the runbook's settings.project).")
    var project: String?

    @Option(help: "Where records, state, backups and the audit log go.")
    var reportsDir = "reports"

    @Option(name: .customLong("skip"), help: "Leave out a step of the phase (repeatable); a skipped critical step fails the phase.")
    var skippedSteps: [String] = []

    /// The `.env` file read: --env-file, else ./.env when it exists.
    var envFilePath: String? { envFile ?? (FileManager.default.fileExists(atPath: ".env") ? ".env" : nil) }

    /// The merged settings; a bad file or variable exits 2 with every problem listed.
    func environment() throws -> [String: String] {
        let process = ProcessInfo.processInfo.environment
        guard let path = envFilePath else { return process }
        do {
            return try EnvFile.load(path: path).merged(over: process)
        } catch {
            throw CommandFailure.usage("\(error)")
        }
    }

    func settings() throws -> StackSettings {
        do {
            return try StackSettings(environment: try environment())
        } catch let error as ConfigurationError {
            throw CommandFailure.usage("\(error)")
        }
    }
}

/// How a command that did not succeed ends. Commands throw it; `CDBCtl.main()` alone prints it and exits.
enum CommandFailure: Error {
    /// A check failed, a NO-GO, an alarm, a document not written: exit 1. The output already shows the verdict;
    /// a message says what the output cannot (a refusal, a failed write).
    case failed(String?)
    /// A usage or configuration problem (a bad flag value, an invalid runbook.yaml or .env, a refused request): exit 2.
    case usage(String)
    /// Another cdbctl run holds the lock: exit 3.
    case lockHeld(String)

    var message: String? {
        switch self {
        case .failed(let message): message
        case .usage(let message), .lockHeld(let message): message
        }
    }

    var exitCode: Int32 {
        switch self {
        case .failed: 1
        case .usage: ConfigurationError.exitCode
        case .lockHeld: LockHeld.exitCode
        }
    }
}
