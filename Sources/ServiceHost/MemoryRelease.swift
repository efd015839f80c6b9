#if canImport(Glibc)
import CGNUExtensions
#endif
import Logging

/// Keeps an idle service's memory near what it uses.
///
/// glibc gives each thread that allocates an arena of its own, up to eight per core, and every NIO, Redis and
/// cooperative-pool thread allocates. Memory freed in one arena is reused only by the threads of that arena,
/// so after a burst (a replay, a backlog drained after a restart) each arena keeps its own peak: after a
/// month's replay cdb_ws held 13.8 MB of heap with glibc's default, 7.4 MB with two arenas, 5.3 MB with one.
/// One arena cost no measurable throughput in `cdb-bench pipeline` (a service makes a few thousand
/// allocations a second, from few threads); a `malloc_trim(0)` every few seconds hands back the free pages.
enum MemoryRelease {
    static let interval = Duration.seconds(5)

    /// Limits glibc to `arenas` arenas (`MALLOC_ARENA_MAX`, validated with the other settings); call early, before
    /// the service's threads allocate.
    static func limitArenas(to arenas: Int) {
        #if canImport(Glibc)
        _ = mallopt(M_ARENA_MAX, Int32(arenas))
        #endif
    }

    static func worker(logger: Logger) -> PeriodicTask {
        PeriodicTask(every: interval, logger: logger) {
            #if canImport(Glibc)
            _ = malloc_trim(0)
            #endif
        }
    }
}
