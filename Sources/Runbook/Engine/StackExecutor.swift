import Foundation

/// Runs the runbook's checks against the real stack: the environment, the host, the Docker engine,
/// the services' endpoints, Redis, PostgreSQL, Prometheus, Grafana, the project's tests and backups.
/// Each step runs as its check type's `execute(in:)`; the executor only builds the step's context
/// and refuses destructive steps without `--yes` and a fresh backup.
public struct StackExecutor: StepExecutor {
    public var environment: [String: String]
    public var stack: StackSettings
    public var runbook: RunbookSettings
    public var projectDirectory: String
    public var reportsDirectory: String
    /// What this command has set for its checks (stop reason, incident, `--yes`, the previous cycle).
    public var command: CommandState
    /// Told how each running `command` step is getting on, while it runs (cdbctl shows it on stderr).
    public var commandProgress: (@Sendable (StepProgress) -> Void)?

    public init(environment: [String: String], stack: StackSettings, runbook: RunbookSettings, projectDirectory: String,
                reportsDirectory: String, previousCycle: PhaseRecord?) {
        self.environment = environment
        self.stack = stack
        self.runbook = runbook
        self.projectDirectory = projectDirectory
        self.reportsDirectory = reportsDirectory
        self.command = CommandState(previousCycle: previousCycle)
    }

    public func execute(_ step: RunbookStep) async -> CheckOutcome {
        let context = context(for: step)
        if let refusal = context.destructiveRefusal() { return .fail(refusal) }
        do {
            return try await step.check.execute(in: context)
        } catch {
            return .fail("\(error)")
        }
    }

    /// Why a destructive step may not run now, or nil when it may: it needs `--yes` and a backup younger
    /// than `settings.destructive_backup_max_age` (seed §5.4: "NUR mit Backup!").
    public func destructiveRefusal(_ step: RunbookStep) -> String? {
        context(for: step).destructiveRefusal()
    }

    private func context(for step: RunbookStep) -> CheckContext {
        CheckContext(environment: environment, stack: stack, runbook: runbook, projectDirectory: projectDirectory,
                     reportsDirectory: reportsDirectory, command: command, commandProgress: commandProgress, step: step)
    }
}
