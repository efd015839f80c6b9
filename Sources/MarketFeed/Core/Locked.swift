#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a lock, for state that a feed's tasks and its readers (health checks,
/// metrics scrapes) touch from different threads.
///
/// A pthread mutex: `Synchronization.Mutex` needs macOS 15 (the package still targets macOS 14) and
/// `NSLock` full Foundation, which the services do not link.
final class Locked<Value>: @unchecked Sendable {
    // Allocated once and never moved, as pthread requires.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access; never `await` inside (the body is synchronous by type).
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
