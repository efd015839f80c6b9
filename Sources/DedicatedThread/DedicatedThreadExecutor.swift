// Linux: pthreads with glibc's GNU extensions (pthread_setname_np's two-argument form).
import CGNUExtensions
import Glibc
import Synchronization

/// A serial executor backed by one OS thread of its own.
///
/// The C clients (libpq, hiredis) block in `read(2)`; running them on Swift's cooperative pool
/// (two threads on a two-core machine) would stall every other task. An actor that returns this
/// executor as its `unownedExecutor` runs all its methods on this thread instead, so its C handle
/// never leaves that thread and blocking calls cost nobody else anything.
public final class DedicatedThreadExecutor: SerialExecutor, Sendable {
    private struct Queue {
        var pending: [UnownedJob] = []
        var stopping = false
    }

    private let queue = Mutex(Queue())
    /// Counts wake-ups: one per job enqueued and one for `shutdown`, so the thread never sleeps on work.
    private let wakeUps = Semaphore()

    /// Starts the thread; `name` shows up in debuggers and `top -H`.
    public init(name: String) {
        OSThread.detach(name: name) { [self] in runJobs() }
    }

    /// Lets the thread end once the jobs already queued have run. Jobs enqueued afterwards still run:
    /// an actor may be deinitialised only when no job refers to it any more.
    public func shutdown() {
        queue.withLock { $0.stopping = true }
        wakeUps.signal()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        queue.withLock { $0.pending.append(unowned) }
        wakeUps.signal()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    private func runJobs() {
        while true {
            wakeUps.wait()
            let (batch, done) = queue.withLock { queue -> ([UnownedJob], Bool) in
                let batch = queue.pending
                queue.pending.removeAll(keepingCapacity: true)
                return (batch, queue.stopping && batch.isEmpty)
            }
            if done { return }
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
        }
    }
}

/// Threads of our own, for C calls that block (hiredis, libpq): neither Foundation's `Thread` (full Foundation,
/// which the services do not link) nor Dispatch (on Linux its global queues share the cooperative pool's width).
public enum OSThread {
    /// Runs `body` on a new detached thread named `name` (the first 15 bytes, the kernel's limit).
    public static func detach(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(ThreadBody(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            let work = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
            _ = pthread_setname_np(pthread_self(), work.shortName)
            work.body()
            return nil
        }, box)
        // Out of threads is not something a service can carry on from.
        precondition(status == 0, "pthread_create failed for '\(name)': \(String(cString: strerror(status)))")
        pthread_detach(thread)
    }

    /// Blocks the calling thread (one of our own: a reconnect loop's back-off) for `duration`.
    public static func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

private final class ThreadBody: Sendable {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }

    /// The longest prefix of whole characters within the kernel's 15 bytes.
    var shortName: String {
        var short = ""
        for character in name {
            guard short.utf8.count + character.utf8.count <= 15 else { break }
            short.append(character)
        }
        return short
    }
}

/// A counting semaphore over a mutex and a condition variable (pthread's, which need stable addresses).
private final class Semaphore: @unchecked Sendable {
    // Allocated once and never moved, as pthread requires; guarded by themselves.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var count = 0

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func signal() {
        pthread_mutex_lock(mutex)
        count += 1
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    func wait() {
        pthread_mutex_lock(mutex)
        while count == 0 { pthread_cond_wait(condition, mutex) }
        count -= 1
        pthread_mutex_unlock(mutex)
    }
}
