import Foundation
import Logging
import MarketFeed
import Prometheus
import ServiceHost
import ServiceLifecycle
import TradingCore

/// cdb_ws's work: ticks from a feed onto `market_data`, batched when the feed is fast.
///
/// A tick waits at most `maxDelay` in the batch, so a live feed's ticks go out one by one while a
/// replay at full speed goes out 256 to a round trip. When a replay ends, the service stays up
/// (serving `/health`, which turns stale) instead of exiting, so a restart policy does not replay again.
public struct FeedStage: Service {
    private let feed: any TickFeed
    private let publisher: EventPublisher
    private let logger: Logger
    private let published: Counter
    private let batchLimit = 256
    private let maxDelay = Duration.milliseconds(50)

    public init(feed: any TickFeed, publisher: EventPublisher, metrics: ServiceMetrics, logger: Logger) {
        self.feed = feed
        self.publisher = publisher
        self.logger = logger
        published = metrics.counter("ticks_published_total", help: "Market ticks appended to market_data")
    }

    public func run() async throws {
        let batcher = TickBatcher()
        let completion = try await cancelWhenGracefulShutdown {
            try await feed.run { tick in
                let due = batcher.add(tick, limit: batchLimit, maxDelay: maxDelay)
                if due { try await flush(batcher) }
            }
        }
        try await flush(batcher)
        if completion == .finished {
            logger.notice("feed finished; market data stops here (health turns stale)", metadata: ["ticks": "\(feed.monitor.snapshot().ticks)"])
            try? await gracefulShutdown()
        }
    }

    private func flush(_ batcher: TickBatcher) async throws {
        let ticks = batcher.drain()
        guard !ticks.isEmpty else { return }
        try await publisher.publish(ticks.map { (BusStream.marketData.rawValue, EventEnvelope.encode($0)) })
        published.increment(by: Int64(ticks.count))
    }

    /// `/health`'s view of the feed: stale after `timeout` without a tick.
    public static func staleness(_ monitor: FeedMonitor, timeout: Duration) -> HealthCheck {
        HealthCheck(name: "feed") {
            guard monitor.isStale(after: timeout) else {
                let age = monitor.timeSinceLastTick().map { String(format: "last tick %.1f s ago", $0.seconds) } ?? "waiting for the first tick"
                return DependencyState(status: .up, detail: age)
            }
            let last = monitor.timeSinceLastTick().map { String(format: "%.0f s", $0.seconds) } ?? "ever"
            return DependencyState(status: .stale, detail: "no tick for \(last) (DATA_STALE_TIMEOUT_SEC \(Int(timeout.seconds)))")
        }
    }
}

/// Ticks waiting to be published; only the feed's own task touches it, one call at a time.
private final class TickBatcher: @unchecked Sendable {
    private var ticks: [MarketTick] = []
    private var oldest: ContinuousClock.Instant?

    /// Adds a tick; true when the batch should go out now.
    func add(_ tick: MarketTick, limit: Int, maxDelay: Duration) -> Bool {
        ticks.append(tick)
        let now = ContinuousClock.now
        let first = oldest ?? now
        oldest = first
        return ticks.count >= limit || now - first >= maxDelay || ticks.count == 1 && maxDelay == .zero
    }

    func drain() -> [MarketTick] {
        defer {
            ticks.removeAll(keepingCapacity: true)
            oldest = nil
        }
        return ticks
    }
}
