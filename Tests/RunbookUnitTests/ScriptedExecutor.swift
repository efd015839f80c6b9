import Foundation
@testable import Runbook
import YAMLParser

/// An in-process `StepExecutor` for engine tests: each step answers from its script, in order (the last
/// answer repeats), after an optional delay; it records how often each step ran and how many ran at once.
actor ScriptedExecutor: StepExecutor {
    struct Answer: Sendable {
        var outcome: CheckOutcome
        var delay: Duration = .zero
    }

    private var scripts: [String: [Answer]]
    private(set) var calls: [String: Int] = [:]
    private(set) var mostAtOnce = 0
    private var running = 0

    init(_ scripts: [String: [Answer]]) {
        self.scripts = scripts
    }

    func execute(_ step: RunbookStep) async -> CheckOutcome {
        let index = calls[step.id, default: 0]
        calls[step.id] = index + 1
        let script = scripts[step.id] ?? []
        guard let answer = script.isEmpty ? nil : script[min(index, script.count - 1)] else { return .fail("no script for \(step.id)") }
        running += 1
        mostAtOnce = max(mostAtOnce, running)
        defer { running -= 1 }
        if answer.delay > .zero { try? await Task.sleep(for: answer.delay) }
        return answer.outcome
    }
}

extension RunbookStep {
    /// A step for engine tests; what it checks is the script's business, so its check is a no-op.
    static func scripted(_ id: String, severity: Severity = .critical, needs: [String] = [], retries: Int = 0,
                         timeout: Duration = .seconds(5)) -> RunbookStep {
        RunbookStep(id: id, title: id, seed: "0", covers: [], severity: severity, timeout: timeout, retries: retries,
                    retryDelay: .zero, needs: needs, holdFor: nil, playbook: nil, when: nil, option: nil, destructive: false,
                    check: WaitCheck(duration: .zero), mark: YAMLMark(line: 1, column: 1))
    }
}
