// Linux: the semaphore is pthread's mutex and condition variable.
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
