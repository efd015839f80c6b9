import ArgumentParser
import Foundation
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
        subcommands: [Validate.self, Plan.self, Preflight.self, Go.self, Start.self, Monitor.self, Incident.self, Stop.self, Report.self, PostRun.self, Health.self, Env.self])
}

extension CDBCtl {
    /// ArgumentParser's own entry point, except that a usage error (unknown flag, bad value) exits 2 as the
    /// documented exit codes say, not 64 (sysexits' EX_USAGE).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
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
            throw UsageFailure("\(error)")
        }
    }

    func settings() throws -> StackSettings {
        do {
            return try StackSettings(environment: try environment())
        } catch let error as ConfigurationError {
            throw UsageFailure("\(error)")
        }
    }
}

/// A usage or configuration problem: printed to stderr, exit code 2.
struct UsageFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension UsageFailure {
    /// Prints and exits; ArgumentParser would otherwise print a usage block for a plain error.
    func exit() -> Never {
        FileHandle.standardError.write(Data("cdbctl: \(description)\n".utf8))
        Foundation.exit(ConfigurationError.exitCode)
    }
}
