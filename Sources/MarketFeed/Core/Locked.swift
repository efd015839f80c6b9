import Foundation

/// A value guarded by a lock, for state that a feed's tasks and its readers (health checks,
/// metrics scrapes) touch from different threads.
///
/// `NSLock` rather than `Synchronization.Mutex` because the package still targets macOS 14.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access; never `await` inside (the body is synchronous by type).
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
