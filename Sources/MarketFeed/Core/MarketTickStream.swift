import Primitives
import TradingCore

/// A feed as an `AsyncSequence` of ticks with backpressure; made by `TickFeed.ticks(bufferSize:)`.
///
/// Each iterator runs the feed once. The sequence ends when the feed finishes (or is cancelled)
/// and throws what the feed throws; dropping the iterator cancels the feed.
public struct MarketTickStream: AsyncSequence, Sendable {
    /// One tick.
    public typealias Element = MarketTick
    /// Feed and transport errors (`MarketFeedError`), or `CancellationError`.
    public typealias Failure = any Error

    private let feed: any TickFeed
    private let bufferSize: Int

    init(feed: any TickFeed, bufferSize: Int) {
        self.feed = feed
        self.bufferSize = Swift.max(1, bufferSize)
    }

    /// Starts the feed in a task of its own.
    public func makeAsyncIterator() -> Iterator {
        Iterator(feed: feed, bufferSize: bufferSize)
    }

    /// Takes ticks from the running feed; dropping it cancels the feed.
    public final class Iterator: AsyncIteratorProtocol {
        private let channel: BoundedChannel<MarketTick>
        private let producer: Task<Void, Never>

        init(feed: any TickFeed, bufferSize: Int) {
            let channel = BoundedChannel<MarketTick>(capacity: bufferSize)
            self.channel = channel
            producer = Task {
                do {
                    try await feed.run { tick in try await channel.send(tick) }
                    channel.finish(throwing: nil)
                } catch {
                    channel.finish(throwing: error)
                }
            }
        }

        deinit {
            producer.cancel()
            channel.close()
        }

        /// The next tick, nil after the feed finished; throws the feed's error.
        public func next() async throws -> MarketTick? {
            try await channel.next()
        }

        /// Same as `next()`; taking the ticks needs no hop off the caller's actor.
        public func next(isolation actor: isolated (any Actor)?) async throws -> MarketTick? {
            try await channel.next()
        }
    }
}
