import DockerClient
import Foundation
import PostgresClient
import Primitives
import StackContract

/// What one command carries from step to step besides the stack's settings: set by the command before its
/// phase runs (the reason of a stop, the playbook's incident, `--yes`), read by the checks that need it.
public struct CommandState: Sendable {
    /// The previous monitor cycle, for data growth.
    public var previousCycle: PhaseRecord?
    /// Why an emergency stop was called, and the containers as they were before it began (for its report).
    public var stopReason: String?
    public var containersBeforeStop: [ContainerState] = []
    /// Set while a playbook runs.
    public var incident: IncidentContext?
    /// `--yes`: destructive steps may run (given a fresh backup).
    public var confirmedDestructive = false
    /// Who acts, as a hold records it ("cdbctl stop", "operator"); a playbook names itself.
    public var actor = "cdbctl"

    public init(previousCycle: PhaseRecord? = nil) {
        self.previousCycle = previousCycle
    }
}

/// Everything a check runs against: the environment, the stack's endpoints, the runbook's settings, the
/// directories, the command's state and the step being run.
public struct CheckContext: Sendable {
    public var environment: [String: String]
    public var stack: StackSettings
    public var runbook: RunbookSettings
    public var projectDirectory: String
    public var reportsDirectory: String
    public var command: CommandState
    /// Told how a running `command` step is getting on.
    public var commandProgress: (@Sendable (StepProgress) -> Void)?
    public var step: RunbookStep
}

extension CheckContext {
    /// The hold on `service` when the run holds it (stopped on purpose). Read afresh: a step before this one in
    /// the same command may have held or released it.
    func hold(on service: String) -> ContainerHold? {
        guard let run = RunJournal(reportsDirectory: reportsDirectory).current(), !run.status.isOver else { return nil }
        return run.hold(for: service)
    }

    /// "held since … by …: reason", how every check reports a held container.
    static func heldText(_ hold: ContainerHold) -> String {
        "held since \(ISO8601DateFormatter().string(from: hold.since)) by \(hold.by) (\(hold.reason))"
    }

    /// The published base URL of a stack service (Prometheus and Grafana included), nil for an unknown name.
    func baseURL(of service: String) -> String? {
        if let match = stack.services.first(where: { $0.name == service }) { return match.baseURL }
        switch service {
        case "cdb_prometheus": return prometheusURL(nil)
        case "cdb_grafana": return grafanaURL(nil)
        default: return nil
        }
    }

    /// `${NAME}` in a URL from the environment (ports, hosts).
    func expand(_ text: String) -> String {
        var result = text
        while let start = result.range(of: "${"), let end = result.range(of: "}", range: start.upperBound..<result.endIndex) {
            let name = String(result[start.upperBound..<end.lowerBound])
            result.replaceSubrange(start.lowerBound..<end.upperBound, with: environment[name] ?? "")
        }
        return result
    }

    func prometheusURL(_ url: String?) -> String {
        url.map(expand) ?? environment["PROMETHEUS_URL"] ?? publishedURL(.prometheusPort)
    }

    func grafanaURL(_ url: String?) -> String {
        url.map(expand) ?? environment["GRAFANA_URL"] ?? publishedURL(.grafanaPort)
    }

    /// `http://<CDB_HOST>:<port>` from the environment as given, with the catalogue's defaults for what is unset.
    private func publishedURL(_ port: Setting<Int>) -> String {
        let host = Setting<String>.cdbHost.definition
        return "http://\(environment[host.name] ?? host.defaultText ?? ""):\(environment[port.name] ?? port.definition.defaultText ?? "")"
    }

    /// Output folders in runbook.yaml are relative to the reports directory (`--reports-dir`).
    func outputFolder(_ directory: String) -> String {
        directory.hasPrefix("/") ? directory : reportsDirectory + "/" + directory
    }

    /// `outputFolder(directory)` created 0700, and the reports directory and those between tightened; its path.
    func privateOutputFolder(_ directory: String) throws -> String {
        let folder = outputFolder(directory)
        try OperatorFiles.createPrivateDirectory(folder, under: reportsDirectory)
        return folder
    }

    /// The run's secrets, hidden in every text a check writes.
    var secretMask: SecretMask { SecretMask(environment: environment) }

    /// `text` with the secrets masked, written 0600 and atomically: how a check keeps logs, evidence and reports.
    func writeOperatorText(_ text: String, to path: String) throws {
        try OperatorFiles.writePrivateText(text, to: path, masking: secretMask)
    }

    /// `pg_dump`/`pg_restore` connection arguments and environment for the stack's database.
    func postgresClientArguments() -> (arguments: [String], environment: [String: String]) {
        let postgres = stack.postgres
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = postgres.password ?? ""
        environment["PGCONNECT_TIMEOUT"] = "5"
        return (["-h", postgres.host, "-p", "\(postgres.port)", "-U", postgres.user], environment)
    }

    /// With the project's containers gone (a stop run again after `down`), the last stop's result that `settled`
    /// accepts, if it passed: what that stop found while the stack was still up stands in for the check.
    func settledBeforeDown(_ settled: (StepResult) -> Bool) async -> CheckOutcome? {
        guard let engine = try? DockerEngine(environment: environment, project: runbook.project),
              let containers = try? await engine.containers(), containers.isEmpty,
              let stop = ReportsDirectory(path: reportsDirectory).lastRecord(of: .stop),
              let result = stop.results.first(where: { $0.status == .pass && settled($0) }) else { return nil }
        return .pass("stack already down (project '\(runbook.project)' has no containers); settled by the stop of "
            + "\(ReportsDirectory.stampFormatter.string(from: stop.startedAt)): \(result.detail)", figures: result.figures)
    }

    /// Why a destructive step may not run now, or nil when it may: it needs `--yes` and a backup younger
    /// than `settings.destructive_backup_max_age` (seed §5.4: "NUR mit Backup!") that still matches its verification.
    func destructiveRefusal() -> String? {
        guard step.destructive else { return nil }
        let folder = outputFolder("backups")
        let maxAge = runbook.destructiveBackupMaxAge
        let candidates = BackupCandidates(folder: folder)
        guard let newest = candidates.newest else {
            return "refused: '\(step.id)' destroys data and there is no verified backup in \(folder) to fall back on\(candidates.skippedText)"
        }
        if newest.age > maxAge.seconds {
            return "refused: '\(step.id)' destroys data and the newest verified backup \(newest.path) is \(Int(newest.age / 3600)) h old "
                + "(allowed \(maxAge.secondsText), runbook.yaml settings.destructive_backup_max_age)\(candidates.skippedText)"
        }
        guard command.confirmedDestructive else {
            return "refused: '\(step.id)' destroys data; run again with --yes (it would fall back on \(newest.path))"
        }
        return nil
    }
}

/// The backups under the reports directory, for what reads them outside a check (the post-run after the stop).
public enum Backups {
    /// The newest verified `*.dump` directly in `folder` (`BackupCandidates`).
    public static func newest(in folder: String) -> String? {
        BackupCandidates(folder: folder).newest?.path
    }
}

extension PostgresConfiguration {
    func with(database: String) -> PostgresConfiguration {
        var copy = self
        copy.database = database
        return copy
    }
}
