import Synchronization

/// A value guarded by a lock, for state that a feed's tasks and its readers (health checks,
/// metrics scrapes) touch from different threads.
final class Locked<Value>: @unchecked Sendable {
    // Mutex's withLock hands out `inout sending Value`; this class keeps the feed's simpler `inout Value`
    // contract: every value it guards stays inside it, touched only under the lock.
    private let mutex: Mutex<Void>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = Mutex(())
    }

    /// Runs `body` with exclusive access; never `await` inside (the body is synchronous by type).
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try mutex.withLock { _ in try body(&value) }
    }
}
