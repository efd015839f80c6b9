import Foundation
@testable import Runbook
import Testing

@Suite("Runbook engine with a scripted executor, in process")
struct EngineSchedulingTests {
    @Test("a step whose need did not pass is skipped with the reason and never run")
    func failedNeedSkips() async {
        let executor = ScriptedExecutor(["a": [.init(outcome: .fail("down"))], "b": [.init(outcome: .pass("up"))]])
        let phase = RunbookPhase(name: .preflight, concurrency: 2, steps: [.scripted("a"), .scripted("b", needs: ["a"])])
        let results = await RunbookEngine().run(phase, executor: executor)
        #expect(results.map(\.status) == [.fail, .skip])
        #expect(results[1].detail == "not run: needs 'a', which did not pass")
        #expect(await executor.calls["b"] == nil)
    }

    @Test("a failing step is retried until it passes, and says on which attempt")
    func retriesUntilPass() async {
        let executor = ScriptedExecutor(["a": [.init(outcome: .fail("not yet")), .init(outcome: .fail("not yet")), .init(outcome: .pass("ok"))]])
        let phase = RunbookPhase(name: .start, concurrency: 1, steps: [.scripted("a", retries: 3)])
        let results = await RunbookEngine().run(phase, executor: executor)
        #expect(results.first?.status == .pass)
        #expect(results.first?.attempts == 3)
        #expect(results.first?.detail == "ok (attempt 3 of 4)")
    }

    @Test("no more steps run at once than the phase's concurrency")
    func concurrencyBound() async {
        let slow = ScriptedExecutor.Answer(outcome: .pass("ok"), delay: .milliseconds(50))
        let ids = ["a", "b", "c", "d", "e"]
        let executor = ScriptedExecutor(Dictionary(uniqueKeysWithValues: ids.map { ($0, [slow]) }))
        let phase = RunbookPhase(name: .monitor, concurrency: 2, steps: ids.map { .scripted($0) })
        let results = await RunbookEngine().run(phase, executor: executor)
        #expect(results.map(\.id) == ids)
        #expect(results.allSatisfy { $0.status == .pass })
        #expect(await executor.mostAtOnce == 2)
    }

    @Test("a step that does not answer within its timeout fails as a timeout")
    func timeoutFails() async {
        let executor = ScriptedExecutor(["a": [.init(outcome: .pass("late"), delay: .seconds(5))]])
        let phase = RunbookPhase(name: .go, concurrency: 1, steps: [.scripted("a", timeout: .milliseconds(100))])
        let results = await RunbookEngine().run(phase, executor: executor)
        #expect(results.first?.status == .fail)
        #expect(results.first?.detail == "no result within 100ms (timeout)")
    }

    @Test("a critical step skipped on request fails the phase; a skipped warning does not")
    func skippedCriticalFails() async {
        let executor = ScriptedExecutor(["a": [.init(outcome: .pass("ok"))], "w": [.init(outcome: .pass("ok"))]])
        let warningOnly = RunbookPhase(name: .preflight, concurrency: 1, steps: [.scripted("a"), .scripted("w", severity: .warning)])
        let skippedWarning = await RunbookEngine().run(warningOnly, executor: executor, skipping: ["w"])
        #expect(skippedWarning[1].detail == "skipped on request (--skip)")
        #expect(PhaseVerdict.verdict(skippedWarning) == .pass)
        let skippedCritical = await RunbookEngine().run(warningOnly, executor: executor, skipping: ["a"])
        #expect(PhaseVerdict.verdict(skippedCritical) == .fail)
    }
}
