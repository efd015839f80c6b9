import Primitives
import Synchronization
import Testing

@Suite("Deadlines")
struct DeadlineTests {
    @Test("an operation that overruns its deadline yields the fallback at the deadline")
    func fallbackAtDeadline() async {
        let start = ContinuousClock.now
        let value = await withDeadline(.milliseconds(200), fallback: "late") {
            try? await Task.sleep(for: .seconds(30))
            return "done"
        }
        #expect(value == "late")
        // Far below the operation's 30 s; generous above 200 ms because the whole suite starts at once on two cores.
        #expect(ContinuousClock.now - start < .seconds(20))
    }

    @Test("an operation that finishes in time yields its own value")
    func valueInTime() async {
        #expect(await withDeadline(.seconds(5), fallback: 0) { 42 } == 42)
    }

    @Test("at the deadline the operation is cancelled, and the call returns only after it has stopped")
    func cancelsAndWaits() async {
        let stopped = Mutex(false)
        let value = await withDeadline(.milliseconds(100), fallback: "late") {
            // Sleeps until cancelled, then takes a while to clean up, as a command does after its SIGTERM.
            try? await Task.sleep(for: .seconds(30))
            let cancelled = Task.isCancelled
            // Clean-up that cancellation does not cut short (a detached task is not cancelled with this one).
            await Task.detached { try? await Task.sleep(for: .milliseconds(300)) }.value
            stopped.withLock { $0 = cancelled }
            return "done"
        }
        #expect(value == "late")
        #expect(stopped.withLock { $0 }, "the operation was not cancelled, or the call returned before it stopped")
    }

    @Test("waiting at most a grace, the answer comes on time while the cancelled operation finishes on its own")
    func answersOnTime() async throws {
        // The operation waits for a gate cancellation cannot open, as a blocked C read; the test opens it only after
        // the deadline answered, so an answer that waited for the operation would never come.
        let gate = Gate()
        let finished = Mutex<Bool?>(nil)
        let value = await withDeadline(.milliseconds(100), fallback: "late", waiting: .atMost(.zero)) {
            await gate.wait()
            finished.withLock { $0 = Task.isCancelled }
            return "done"
        }
        #expect(value == "late")
        #expect(finished.withLock { $0 } == nil)
        gate.open()
        let until = ContinuousClock.now + .seconds(30)
        while finished.withLock({ $0 }) == nil, ContinuousClock.now < until { try await Task.sleep(for: .milliseconds(20)) }
        #expect(finished.withLock { $0 } == true, "the abandoned operation was not cancelled")
    }

    @Test("a cancelled caller gets the fallback once the operation has stopped")
    func cancelledCaller() async {
        let caller = Task {
            await withDeadline(.seconds(30), fallback: "cancelled") {
                try? await Task.sleep(for: .seconds(30))
                return Task.isCancelled ? "stopped" : "ran on"
            }
        }
        try? await Task.sleep(for: .milliseconds(100))
        caller.cancel()
        #expect(await caller.value == "cancelled")
    }
}

/// A wait that only `open()` ends (cancellation does not), standing in for a blocking call.
private final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func wait() async {
        await withCheckedContinuation { continuation in
            let openNow = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiter = continuation
                return false
            }
            if openNow { continuation.resume() }
        }
    }

    func open() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.open = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}
