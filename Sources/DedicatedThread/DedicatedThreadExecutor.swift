import Foundation

/// A serial executor backed by one OS thread of its own.
///
/// The C clients (libpq, hiredis) block in `read(2)`; running them on Swift's cooperative pool
/// (two threads on a two-core machine) would stall every other task. An actor that returns this
/// executor as its `unownedExecutor` runs all its methods on this thread instead, so its C handle
/// never leaves that thread and blocking calls cost nobody else anything.
public final class DedicatedThreadExecutor: SerialExecutor, @unchecked Sendable {
    // Guarded by `condition`; the thread drains it in order.
    private let condition = NSCondition()
    private var pending: [UnownedJob] = []
    private var stopping = false

    /// Starts the thread; `name` shows up in debuggers and `top -H`.
    public init(name: String) {
        let thread = Thread { [self] in runJobs() }
        thread.name = name
        thread.start()
    }

    /// Lets the thread end once the jobs already queued have run. Jobs enqueued afterwards still run:
    /// an actor may be deinitialised only when no job refers to it any more.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        pending.append(unowned)
        condition.signal()
        condition.unlock()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    private func runJobs() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            if pending.isEmpty && stopping {
                condition.unlock()
                return
            }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
        }
    }
}
