import Foundation
import Primitives

/// How a step ended.
public enum StepStatus: String, Sendable, Codable {
    /// The condition held (or the action succeeded).
    case pass
    case fail
    /// Not run or not applicable: a dependency failed, or the target is not deployed. Never counts as a pass.
    case skip
}

/// What one check found, in words an operator can act on.
public struct CheckOutcome: Sendable, Equatable {
    public var status: StepStatus
    public var detail: String
    /// Figures worth keeping between runs (row counts, lags), by name.
    public var figures: [String: Double]

    public init(_ status: StepStatus, _ detail: String, figures: [String: Double] = [:]) {
        self.status = status
        self.detail = detail
        self.figures = figures
    }

    public static func pass(_ detail: String, figures: [String: Double] = [:]) -> CheckOutcome { .init(.pass, detail, figures: figures) }
    public static func fail(_ detail: String, figures: [String: Double] = [:]) -> CheckOutcome { .init(.fail, detail, figures: figures) }
    public static func skip(_ detail: String) -> CheckOutcome { .init(.skip, detail) }
}

/// One step's result as recorded in reports and state.
public struct StepResult: Sendable, Codable, Equatable {
    public var id: String
    public var title: String
    public var seed: String
    public var severity: Severity
    public var status: StepStatus
    public var detail: String
    public var attempts: Int
    public var startedAt: Date
    public var durationMs: Double
    public var figures: [String: Double]
    public var playbook: String?

    public init(id: String, title: String, seed: String, severity: Severity, status: StepStatus, detail: String, attempts: Int,
                startedAt: Date, durationMs: Double, figures: [String: Double], playbook: String?) {
        self.id = id
        self.title = title
        self.seed = seed
        self.severity = severity
        self.status = status
        self.detail = detail
        self.attempts = attempts
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.figures = figures
        self.playbook = playbook
    }

    enum CodingKeys: String, CodingKey {
        case id, title, seed, severity, status, detail, attempts, figures, playbook
        case startedAt = "started_at"
        case durationMs = "duration_ms"
    }
}

/// Runs the checks and actions themselves; the engine only decides when.
public protocol StepExecutor: Sendable {
    func execute(_ step: RunbookStep) async -> CheckOutcome
}

/// Runs a phase: steps concurrently up to the phase's bound, in dependency order, each with its timeout,
/// retries and `for:` window.
public struct RunbookEngine: Sendable {
    /// How often a `for:` condition is re-checked while it must hold.
    public var holdInterval: Duration

    public init(holdInterval: Duration = .seconds(5)) {
        self.holdInterval = holdInterval
    }

    /// Results in the phase's step order; `progress` sees each one as it finishes.
    /// `skipping` names steps the operator asked to leave out: they are recorded as skipped, and since a
    /// skip is not a pass, leaving out a critical step fails the phase.
    public func run(_ phase: RunbookPhase, executor: some StepExecutor, skipping: Set<String> = [],
                    progress: @escaping @Sendable (StepResult) -> Void = { _ in }) async -> [StepResult] {
        var results: [String: StepResult] = [:]
        var pending = phase.steps
        var running: Set<String> = []
        await withTaskGroup(of: StepResult.self) { group in
            while !pending.isEmpty || !running.isEmpty {
                // Skip whatever needs a step that did not pass; start whatever is ready, up to the bound.
                var index = 0
                while index < pending.count {
                    let step = pending[index]
                    if skipping.contains(step.id) {
                        let skipped = StepResult(step: step, outcome: .skip("skipped on request (--skip)"), attempts: 0, startedAt: Date(), duration: .zero)
                        results[step.id] = skipped
                        progress(skipped)
                        pending.remove(at: index)
                        continue
                    }
                    if let blocker = step.needs.compactMap({ results[$0] }).first(where: { $0.status != .pass }) {
                        let skipped = StepResult(step: step, outcome: .skip("not run: needs '\(blocker.id)', which did not pass"),
                                                 attempts: 0, startedAt: Date(), duration: .zero)
                        results[step.id] = skipped
                        progress(skipped)
                        pending.remove(at: index)
                        continue
                    }
                    if running.count < phase.concurrency, step.needs.allSatisfy({ results[$0]?.status == .pass }) {
                        running.insert(step.id)
                        pending.remove(at: index)
                        group.addTask { await self.runStep(step, executor: executor) }
                        continue
                    }
                    index += 1
                }
                guard let finished = await group.next() else { break }
                running.remove(finished.id)
                results[finished.id] = finished
                progress(finished)
            }
        }
        return phase.steps.compactMap { results[$0.id] }
    }

    func runStep(_ step: RunbookStep, executor: some StepExecutor) async -> StepResult {
        let started = Date()
        let clock = ContinuousClock()
        let start = clock.now
        var outcome = CheckOutcome.fail("not run")
        var attempts = 0
        while attempts <= step.retries {
            attempts += 1
            outcome = step.holdFor == nil ? await attempt(step, executor: executor) : await holding(step, executor: executor)
            if outcome.status != .fail || attempts > step.retries { break }
            try? await Task.sleep(for: step.retryDelay)
        }
        if attempts > 1 { outcome.detail += " (attempt \(attempts) of \(step.retries + 1))" }
        return StepResult(step: step, outcome: outcome, attempts: attempts, startedAt: started, duration: clock.now - start)
    }

    private func attempt(_ step: RunbookStep, executor: some StepExecutor) async -> CheckOutcome {
        let limit = step.timeout
        return await withDeadline(limit, fallback: .fail("no result within \(limit.secondsText) (timeout)")) {
            await executor.execute(step)
        }
    }

    /// Re-checks until the condition has held for the whole `for:` window; a failure restarts the window,
    /// and the step fails when the window can no longer complete within `for:` + timeout.
    private func holding(_ step: RunbookStep, executor: some StepExecutor) async -> CheckOutcome {
        let window = step.holdFor ?? .zero
        let clock = ContinuousClock()
        let deadline = clock.now + window + step.timeout
        var heldSince: ContinuousClock.Instant?
        var last = CheckOutcome.fail("not checked")
        while true {
            last = await attempt(step, executor: executor)
            let now = clock.now
            if last.status == .pass {
                let since = heldSince ?? now
                heldSince = since
                if now - since >= window {
                    last.detail += " (held for \(window.secondsText))"
                    return last
                }
            } else {
                heldSince = nil
            }
            let remaining = deadline - now
            if remaining <= .zero || (heldSince == nil && remaining < window) {
                if last.status == .pass {
                    last = .fail("held only \((now - heldSince!).secondsText) of the required \(window.secondsText): \(last.detail)")
                } else {
                    last.detail += " (must hold for \(window.secondsText))"
                }
                return last
            }
            try? await Task.sleep(for: min(holdInterval, remaining))
        }
    }
}

extension StepResult {
    init(step: RunbookStep, outcome: CheckOutcome, attempts: Int, startedAt: Date, duration: Duration) {
        self.init(id: step.id, title: step.title, seed: step.seed, severity: step.severity, status: outcome.status,
                  detail: outcome.detail, attempts: attempts, startedAt: startedAt, durationMs: duration.milliseconds,
                  figures: outcome.figures, playbook: step.playbook)
    }
}

extension Duration {
    /// `1.5s`, `5m`, `4h`: how durations read in messages.
    public var secondsText: String {
        let seconds = self.seconds
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600))h" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        return seconds.rounded() == seconds ? "\(Int(seconds))s" : String(format: "%.1fs", seconds)
    }
}
