import Synchronization

/// How long `withDeadline` waits, once it has cancelled an overrunning operation, for the operation to stop.
public enum DeadlineWait: Sendable {
    /// Until it has returned: nothing the operation started outlives the call, so a timed-out attempt never overlaps
    /// its retry (the runbook's steps).
    case untilStopped
    /// At most this long; an operation still running then finishes later, unobserved. For answers that must come
    /// on time even when the operation sits in a call cancellation cannot interrupt (`/health` while a libpq or
    /// hiredis read blocks).
    case atMost(Duration)
}

/// Runs `operation` with a time limit: at `limit` its task is cancelled and the result is `fallback`.
///
/// Cancellation ends `Task.sleep`, async sequences and whatever checks `Task.isCancelled`; a call blocked outside
/// Swift (a hiredis or libpq read, `waitpid`) is not interrupted and returns in its own time, bounded by its own
/// timeout. `waiting` says whether the call waits for that (the default) or answers on time. A caller that is
/// cancelled itself cancels the operation and gets `fallback`, after the same wait.
public func withDeadline<Value: Sendable>(
    _ limit: Duration, fallback: Value, waiting: DeadlineWait = .untilStopped, _ operation: @escaping @Sendable () async -> Value
) async -> Value {
    switch waiting {
    case .untilStopped:
        return await withTaskGroup(of: DeadlineRace<Value>.self) { group in
            group.addTask { .finished(await operation()) }
            group.addTask {
                try? await Task.sleep(for: limit)
                return .expired
            }
            let first = await group.next() ?? .expired
            // The group awaits the loser before it returns: the timer ends at once, the operation once it heeds the cancel.
            group.cancelAll()
            if case .finished(let value) = first, !Task.isCancelled { return value }
            return fallback
        }
    case .atMost(let grace):
        let work = Task { await operation() }
        return await withTaskCancellationHandler {
            if let value = await work.value(within: limit), !Task.isCancelled { return value }
            work.cancel()
            _ = await work.value(within: grace)
            return fallback
        } onCancel: {
            work.cancel()
        }
    }
}

/// Which of a deadline's two children finished first.
private enum DeadlineRace<Value: Sendable>: Sendable {
    case finished(Value)
    case expired
}

extension Task where Failure == Never {
    /// The task's value if it returns within `limit`, else nil (the task runs on).
    fileprivate func value(within limit: Duration) async -> Success? {
        let first = FirstValue<Success?>()
        return await withCheckedContinuation { continuation in
            first.await(continuation)
            Task<Void, Never> { first.resume(await self.value) }
            Task<Void, Never> {
                try? await Task<Never, Never>.sleep(for: limit)
                first.resume(nil)
            }
        }
    }
}

/// Resumes a continuation with whichever value arrives first.
private final class FirstValue<Value: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Value, Never>?, done: Bool)>((nil, false))

    func await(_ continuation: CheckedContinuation<Value, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func resume(_ value: Value) {
        let continuation = state.withLock { current -> CheckedContinuation<Value, Never>? in
            guard !current.done else { return nil }
            current.done = true
            return current.continuation
        }
        continuation?.resume(returning: value)
    }
}
