#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import EventBus
import Logging
import Prometheus
import RedisClient
import ServiceHost
import StackContract
import TradingCore

/// cdb_core's work: market ticks in, momentum signals out.
public actor SignalStage {
    private var strategy: MomentumStrategy
    private let publisher: any EventSink
    private let logger: Logger
    private let ticks: Counter
    private let buys: Counter
    private let sells: Counter
    private let malformed: Counter
    private let probes: Counter
    private var lastTickTime: Date?
    private var lastSignal: TradingSignal?

    public init(strategy: MomentumStrategy, publisher: any EventSink, metrics: ServiceMetrics, logger: Logger) {
        self.strategy = strategy
        self.publisher = publisher
        self.logger = logger
        ticks = metrics.counter("ticks_processed_total", help: "Market ticks evaluated by the strategy")
        buys = metrics.counter("signals_total", help: "Signals emitted", labels: [("side", "BUY")])
        sells = metrics.counter("signals_total", help: "Signals emitted", labels: [("side", "SELL")])
        malformed = metrics.counter("malformed_events_total", help: "Stream entries that held no readable event", labels: [("stream", "market_data")])
        probes = metrics.counter("probe_ticks_total", help: "cdbctl event-flow probes acknowledged without trading")
    }

    /// Evaluates a batch of `market_data` entries and publishes the signals before returning (so the batch may be acked).
    public func handle(_ entries: [StreamEntry]) async throws {
        var signals: [(stream: String, payload: String)] = []
        for entry in entries {
            switch EventEnvelope.decode(MarketTick.self, from: entry) {
            case .failure(let problem):
                malformed.increment()
                logger.warning("skipping malformed market_data entry", metadata: ["problem": "\(problem)"])
            case .success(let tick) where tick.source == .probe:
                probes.increment()
                logger.info("event-flow probe received", metadata: ["probe": "\(tick.id)"])
            case .success(let tick):
                ticks.increment()
                lastTickTime = tick.eventTime
                if let signal = strategy.evaluate(tick, now: tick.eventTime) {
                    (signal.side == .buy ? buys : sells).increment()
                    lastSignal = signal
                    signals.append((BusStream.signals.rawValue, EventEnvelope.encode(signal)))
                }
            }
        }
        try await publisher.publish(signals)
    }

    /// What `/status` shows.
    public func status() -> SignalStatus {
        SignalStatus(strategy: strategy.config, lastTickTime: lastTickTime, lastSignal: lastSignal)
    }
}
