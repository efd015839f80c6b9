#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import EventBus
import PlainText
import Logging
import MarketFeed
import Primitives
import Prometheus
import ServiceHost
import ServiceLifecycle
import StackContract
import TradingCore

/// cdb_ws's work: ticks from a feed onto `market_data`.
///
/// Publishing is a group commit: a publisher task sends whatever has queued up while its previous
/// round trip was in flight. A live feed's ticks therefore go out one by one, without waiting for the
/// next tick, while a replay at full speed goes out hundreds to a round trip. The queue is bounded, so
/// a feed faster than Redis is slowed down rather than buffered without limit. When a replay ends, the
/// service stays up (serving `/health`, which turns stale) instead of exiting, so a restart policy does
/// not replay the file again.
public struct FeedStage: Service {
    private let feed: any TickFeed
    private let publisher: EventPublisher
    private let logger: Logger
    private let published: Counter
    private let hopLatency: DurationHistogram?
    private let queueLimit = 4_096
    /// Between attempts to publish a batch while Redis is away: 100 ms doubling to 5 s.
    private static let publishBackoff = Backoff(initialDelay: .milliseconds(100), maxDelay: .seconds(5))

    /// `liveEventTimes`: the ticks carry the time they happened (live exchange, synthetic, a replay
    /// re-stamped at emission), so exchange → publish is a latency; a replay's recorded times are not.
    public init(feed: any TickFeed, liveEventTimes: Bool, publisher: EventPublisher, metrics: ServiceMetrics, logger: Logger) {
        self.feed = feed
        self.publisher = publisher
        self.logger = logger
        published = metrics.counter("ticks_published_total", help: "Market ticks appended to market_data")
        hopLatency = liveEventTimes ? metrics.hopLatency(from: "exchange") : nil
    }

    public func run() async throws {
        // A tick the feed handed over is published even while a shutdown stops the feed (`.completesSend`).
        let queue = BoundedChannel<MarketTick>(capacity: queueLimit, senderCancellation: .completesSend)
        let completion = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while let batch = try await queue.nextBatch() {
                    let events = batch.map { (BusStream.marketData.rawValue, $0.busJSON()) }
                    // Redis away (restart, network): keep the batch and retry, so no tick is dropped and the
                    // bounded queue slows the feed meanwhile; a shutdown cancels the wait.
                    var failures = 0
                    while true {
                        do {
                            try await publisher.publish(events)
                            break
                        } catch {
                            failures += 1
                            let delay = Self.publishBackoff.delay(afterFailures: failures)
                            logger.error("publishing market data failed, retrying", metadata: [
                                "ticks": "\(batch.count)", "error": "\(error)", "retry_in_ms": "\(Int(delay.milliseconds))"])
                            try await Task.sleep(for: delay)
                        }
                    }
                    published.increment(by: Int64(batch.count))
                    if let hopLatency {
                        let now = Date()
                        for tick in batch { hopLatency.record(.milliseconds(max(0, now.timeIntervalSince(tick.eventTime) * 1000))) }
                    }
                }
            }
            defer { queue.finish() }
            let completion = try await cancelWhenGracefulShutdown {
                try await feed.run { tick in try await queue.send(tick) }
            }
            queue.finish()
            try await group.waitForAll()
            return completion
        }
        if completion == .finished {
            logger.notice("feed finished; market data stops here (health turns stale)", metadata: ["ticks": "\(feed.monitor.snapshot().ticks)"])
            try? await gracefulShutdown()
        }
    }

    /// `/health`'s view of the feed: stale after `timeout` without a tick.
    public static func staleness(_ monitor: FeedMonitor, timeout: Duration) -> HealthCheck {
        HealthCheck(name: "feed") {
            guard monitor.isStale(after: timeout) else {
                let age = monitor.timeSinceLastTick().map { "last tick \($0.seconds.fixed(1)) s ago" } ?? "waiting for the first tick"
                return DependencyState(status: .up, detail: age)
            }
            let last = monitor.timeSinceLastTick().map { "\($0.seconds.fixed(0)) s" } ?? "ever"
            return DependencyState(status: .stale, detail: "no tick for \(last) (DATA_STALE_TIMEOUT_SEC \(Int(timeout.seconds)))")
        }
    }
}
