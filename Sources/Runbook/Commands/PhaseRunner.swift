import Foundation

/// A request a command cannot carry out as asked (a step name that does not exist, a playbook without steps,
/// a destructive step refused before anything ran): cdbctl prints it and exits 2.
public struct CommandRefusal: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Runs a command's phases against the stack: every step audited as it finishes, the verdict judged, the record
/// returned for the caller to save and show. Playbooks and stops run their phases through it too.
public struct PhaseRunner: Sendable {
    /// The command as the audit log names it (`stop --emergency`).
    public var command: String
    public var definition: RunbookDefinition
    public var reports: ReportsDirectory
    public var executor: StackExecutor
    /// Steps the operator asked to leave out (`--skip`).
    public var skipping: Set<String>
    /// Sees each step as it finishes (cdbctl shows its verdict on a terminal).
    public var stepFinished: @Sendable (StepResult) -> Void

    public init(command: String, definition: RunbookDefinition, reports: ReportsDirectory, executor: StackExecutor,
                skipping: Set<String> = [], stepFinished: @escaping @Sendable (StepResult) -> Void = { _ in }) {
        self.command = command
        self.definition = definition
        self.reports = reports
        self.executor = executor
        self.skipping = skipping
        self.stepFinished = stepFinished
    }

    /// Runs the phase; `judge` turns its results into the verdict and notes.
    public func run(_ phase: PhaseName, judge: ([StepResult]) -> (Verdict, [String])) async throws(CommandRefusal) -> PhaseRecord {
        let steps = definition.phase(phase).steps
        let unknown = skipping.filter { id in !steps.contains { $0.id == id } }
        if !unknown.isEmpty {
            throw CommandRefusal("--skip: no step \(unknown.sorted().joined(separator: ", ")) in phase \(phase.rawValue) (steps: \(steps.map(\.id).joined(separator: ", ")))")
        }
        let started = Date()
        let reports = reports
        let command = command
        let stepFinished = stepFinished
        let results = await RunbookEngine().run(definition.phase(phase), executor: executor, skipping: skipping) { result in
            reports.audit(command: command, action: "step \(result.id)", outcome: result.status.rawValue, detail: result.detail)
            stepFinished(result)
        }
        let (verdict, notes) = judge(results)
        return PhaseRecord(phase: phase, verdict: verdict, startedAt: started, finishedAt: Date(), results: results, notes: notes)
    }
}
