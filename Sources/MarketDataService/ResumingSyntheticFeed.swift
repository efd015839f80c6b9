import EventBus
import Logging
import MarketFeed
import Primitives
import RedisClient
import StackContract
import TradingCore

/// cdb_ws's synthetic feed: before its first tick it finds on `market_data` where the previous run left each
/// symbol's walk and continues from there, instead of repeating the seed's first ids and prices, which every
/// stage downstream would drop as redeliveries (and the price would snap back to the start price).
///
/// No walk starts before that is known: while Redis cannot be read it retries, and a shutdown meanwhile ends
/// `run` with `.cancelled`. A symbol with no synthetic tick on the stream starts at its start price, exactly
/// as a fresh `SyntheticFeed` does.
public struct ResumingSyntheticFeed: TickFeed {
    /// Entries per XREVRANGE while looking back for each symbol's newest synthetic tick.
    static let pageSize = 1_000
    /// Between attempts to read the stream while Redis is away: 100 ms doubling to 5 s, up to a fifth random.
    private static let lookupBackoff = Backoff(initialDelay: .milliseconds(100), maxDelay: .seconds(5), jitter: 0.2)

    private let feed: SyntheticFeed
    private let redis: RedisConfiguration
    private let stream: String
    private let logger: Logger

    /// The walk's counters; see `TickFeed.monitor`.
    public var monitor: FeedMonitor { feed.monitor }

    /// Validates `configuration` now (throwing `MarketFeedError.invalidConfiguration`); `stream` is where the feed's
    /// ticks are published, so where an earlier run's last ones are.
    public init(
        _ configuration: SyntheticFeed.Configuration, redis: RedisConfiguration, stream: String = BusStream.marketData.rawValue,
        monitor: FeedMonitor = FeedMonitor(), logger: Logger
    ) throws(MarketFeedError) {
        feed = try SyntheticFeed(configuration, monitor: monitor)
        self.redis = redis
        self.stream = stream
        self.logger = logger
    }

    /// Finds the resume points, then runs the walk; see `TickFeed.run(deliver:)`.
    @discardableResult
    public func run(deliver: (MarketTick) async throws -> Void) async throws -> FeedCompletion {
        guard let resumePoints = await findResumePoints() else { return .cancelled }
        var configuration = feed.configuration
        configuration.resumingAfter = resumePoints
        for symbol in configuration.symbols {
            if let last = resumePoints.first(where: { $0.symbol == symbol }) {
                logger.notice("synthetic walk resumes at step 1 of a new id epoch, price \(last.price), from tick \(last.id)", metadata: [
                    "symbol": "\(symbol)", "epoch": "\(last.id)"])
            } else {
                let price = configuration.startPrices[symbol] ?? configuration.startPrice
                logger.notice("synthetic walk starts at step 0, price \(price): no synthetic tick of \(symbol) on \(stream)", metadata: [
                    "symbol": "\(symbol)"])
            }
        }
        return try await SyntheticFeed(configuration, monitor: feed.monitor).run(deliver: deliver)
    }

    /// The configured symbols' newest synthetic ticks, retrying while Redis cannot be read; nil when cancelled meanwhile.
    private func findResumePoints() async -> [MarketTick]? {
        var failures = 0
        while !Task.isCancelled {
            do {
                let connection = try await RedisConnection(redis)
                return try await Self.newestSyntheticTicks(on: connection, stream: stream, symbols: feed.configuration.symbols)
            } catch {
                failures += 1
                let delay = Self.lookupBackoff.delay(afterFailures: failures)
                logger.error("finding where the synthetic walk left off failed; the walk waits for it, retrying", metadata: [
                    "stream": "\(stream)", "error": "\(error)", "retry_in_ms": "\(Int(delay.milliseconds))"])
                do { try await Task.sleep(for: delay) } catch { return nil }
            }
        }
        return nil
    }

    /// The newest tick of source `.synthetic` of each of `symbols` on `stream`, in the order of `symbols` (a symbol
    /// without one is left out). cdbctl's probes, replay and MEXC ticks and unreadable entries are passed over; the
    /// stream is read back page by page until every symbol is found or its oldest entry was read.
    public static func newestSyntheticTicks(on redis: RedisConnection, stream: String, symbols: [String]) async throws(RedisError) -> [MarketTick] {
        let wanted = Set(symbols)
        var newest: [String: MarketTick] = [:]
        var end = "+"
        while newest.count < wanted.count {
            let page = try await redis.reverseRange(stream, from: end, count: pageSize)
            for entry in page {
                guard case .success(let tick) = EventEnvelope.decode(MarketTick.self, from: entry), tick.source == .synthetic,
                      wanted.contains(tick.symbol), newest[tick.symbol] == nil, tick.price.isFinite, tick.price > 0
                else { continue }
                newest[tick.symbol] = tick
            }
            guard page.count == pageSize, let oldest = page.last else { break }
            end = "(" + oldest.id
        }
        return symbols.compactMap { newest[$0] }
    }
}
