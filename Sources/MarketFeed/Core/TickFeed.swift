import TradingCore

/// A source of market ticks that a service runs until shutdown, publishing each tick it is handed.
///
/// The feed calls `deliver` and waits for it before producing the next tick, so a slow publisher
/// (a Redis `XADD` round trip) throttles the feed instead of piling ticks up in memory, and
/// errors flow straight back to the caller. Cancelling the calling task (a `ServiceGroup`'s
/// graceful shutdown through `cancelWhenGracefulShutdown`) ends `run` promptly with `.cancelled`.
///
/// ```swift
/// struct MarketDataService: Service {
///     let feed: any TickFeed
///     let publisher: TickPublisher
///     func run() async throws {
///         try await cancelWhenGracefulShutdown {
///             _ = try await feed.run { tick in try await publisher.publish(tick) }
///         }
///     }
/// }
/// ```
public protocol TickFeed: Sendable {
    /// Counters and the time of the last tick, for `/status`, `/metrics` and the `/health` staleness check.
    var monitor: FeedMonitor { get }

    /// Produces ticks until the source ends or the task is cancelled, handing each one to `deliver`.
    ///
    /// `deliver` is called in tick order, never concurrently, from the task that called `run`.
    /// Returns `.finished` when a finite source is exhausted (end of a replay file, a synthetic
    /// tick limit) and `.cancelled` when the calling task was cancelled. Throws a
    /// `MarketFeedError` when the source fails for good (a bad replay line, a refused MEXC
    /// subscription), or whatever `deliver` throws.
    @discardableResult
    func run(deliver: (MarketTick) async throws -> Void) async throws -> FeedCompletion
}

/// How a feed's `run` ended without an error.
public enum FeedCompletion: String, Sendable, Equatable {
    /// The source has no more ticks (end of a replay file, a synthetic tick limit reached).
    case finished
    /// The calling task was cancelled (graceful shutdown).
    case cancelled
}

extension TickFeed {
    /// The feed as an `AsyncSequence`, for `for try await tick in feed.ticks()`.
    ///
    /// The feed runs in a task of its own that stops when the iterator is dropped; at most
    /// `bufferSize` ticks wait between that task and the consumer (the feed waits beyond that),
    /// so a replay at `.max` speed never loads a whole file into memory.
    public func ticks(bufferSize: Int = 256) -> MarketTickStream {
        MarketTickStream(feed: self, bufferSize: bufferSize)
    }
}
