// Linux: pthreads with glibc's GNU extensions (pthread_setname_np's two-argument form).
import CGNUExtensions
import Glibc

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
