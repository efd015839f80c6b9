import DockerClient

/// Which stop steps run (seed §7.1 planned, §7.2 emergency) and how long the planned stop waits for open positions.
public struct StopPlan: Sendable {
    public var mode: StopMode
    /// `--position-wait`: the open-positions step's wait instead of runbook.yaml's.
    public var positionWait: Duration?

    public init(mode: StopMode, positionWait: Duration? = nil) {
        self.mode = mode
        self.positionWait = positionWait
    }

    /// Everything a stop needs before its first step: the phase cut to this plan, the reason, and the containers
    /// as they ran (the emergency report lists them; a stop cannot see them afterwards).
    public func prepare(_ definition: inout RunbookDefinition, _ executor: inout StackExecutor, reason: String?) async {
        apply(to: &definition)
        executor.command.stopReason = reason
        if let engine = try? DockerEngine(environment: executor.environment, project: definition.settings.project) {
            executor.command.containersBeforeStop = (try? await engine.containers()) ?? []
        }
    }

    /// The stop phase of `definition` cut to this plan: steps of the other mode removed, the position wait applied.
    public func apply(to definition: inout RunbookDefinition) {
        definition.phases[.stop]?.steps.removeAll { $0.when != nil && $0.when != mode }
        guard let wait = positionWait, let steps = definition.phases[.stop]?.steps else { return }
        definition.phases[.stop]?.steps = steps.map { step in
            guard let positions = step.check as? OpenPositionsCheck else { return step }
            var shorter = step
            // Polled at least ten times within the shorter wait, and the step's timeout leaves room for closing.
            shorter.check = OpenPositionsCheck(wait: wait, poll: min(positions.poll, max(wait / 10, .seconds(1))), close: positions.close)
            shorter.timeout = wait + .seconds(300)
            return shorter
        }
    }
}
