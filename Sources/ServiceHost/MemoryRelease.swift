#if canImport(Glibc)
import CGNUExtensions
#endif
import Logging

/// Hands memory the service freed back to the system, every few seconds.
///
/// glibc keeps freed memory in its arenas (one per thread that allocated, and every NIO, Redis and
/// cooperative-pool thread does) and returns only the top of the main heap. After a burst, a replay or
/// a backlog drained after a restart, an idle service would keep its peak for the rest of a week-long
/// run and `docker stats` would show it. `malloc_trim(0)` releases the free pages of every arena; on a
/// small heap it takes microseconds, and pages it released are only faulted in again if used again.
enum MemoryRelease {
    static let interval = Duration.seconds(5)

    static func worker(logger: Logger) -> PeriodicTask {
        PeriodicTask(every: interval, logger: logger) {
            #if canImport(Glibc)
            _ = malloc_trim(0)
            #endif
        }
    }
}
