import Synchronization

/// Runs `operation`, giving up after `limit` with `fallback`. The operation is not awaited past the
/// deadline (a blocked C call cannot be cancelled); it finishes later, unobserved.
public func withDeadline<Value: Sendable>(
    _ limit: Duration, fallback: Value, _ operation: @escaping @Sendable () async -> Value
) async -> Value {
    let first = FirstResult<Value>()
    return await withCheckedContinuation { continuation in
        first.await(continuation)
        Task { first.resume(await operation()) }
        Task {
            try? await Task.sleep(for: limit)
            first.resume(fallback)
        }
    }
}

/// Resumes a continuation with whichever value arrives first.
private final class FirstResult<Value: Sendable>: Sendable {
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
