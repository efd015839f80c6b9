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
///
/// Exactly once: each batch commits the strategy as it stands after the batch, the position reached on
/// `market_data` and the batch's signals in one transaction. A redelivered entry (a crash between commit and
/// acknowledgement) is at or below that position and skipped; a commit that failed leaves nothing behind, and
/// the stage rereads its saved state before the next batch, so the redelivered entries are evaluated again
/// from where the strategy really stood. A restart therefore continues the same strategy: a replay gives the
/// same signals with or without a kill in the middle.
public actor SignalStage {
    struct State: Codable {
        var strategy: MomentumStrategy
        var applied = AppliedPositions()
        var lastTickTime: Date?
        var lastSignal: TradingSignal?
    }

    public static let stateKey = SavedStateKeys.signalStage

    private var state: State
    /// Set when a commit failed: what Redis holds may be ahead of or behind `state`, so it is read again.
    private var mustReload = false
    private let config: MomentumStrategyConfig
    private let publisher: any EventSink
    private let store: any StateStore
    private let logger: Logger
    private let ticks: Counter
    private let buys: Counter
    private let sells: Counter
    private let malformed: Counter
    private let probes: Counter

    /// Resumes the strategy saved in `store`, or starts `strategy` afresh; a saved strategy with another
    /// configuration than the settings' is dropped (it warms up again under the new windows).
    public init(strategy: MomentumStrategy, publisher: any EventSink, store: any StateStore, metrics: ServiceMetrics, logger: Logger) async throws {
        self.config = strategy.config
        self.publisher = publisher
        self.store = store
        self.logger = logger
        self.state = State(strategy: strategy)
        ticks = metrics.counter("ticks_processed_total", help: "Market ticks evaluated by the strategy")
        buys = metrics.counter("signals_total", help: "Signals emitted", labels: [("side", "BUY")])
        sells = metrics.counter("signals_total", help: "Signals emitted", labels: [("side", "SELL")])
        malformed = metrics.counter("malformed_events_total", help: "Stream entries that held no readable event", labels: [("stream", "market_data")])
        probes = metrics.counter("probe_ticks_total", help: "cdbctl event-flow probes acknowledged without trading")
        do {
            try await reload()
        } catch let error as RedisError {
            StageState.deferLoad(key: Self.stateKey, error: error, logger: logger)
            mustReload = true
        }
    }

    private func reload() async throws {
        guard var saved = try await StageState.load(State.self, key: Self.stateKey, from: store) else { return }
        if saved.strategy.config != config {
            logger.notice("strategy settings changed; the strategy starts afresh under them", metadata: [
                "saved": "\(saved.strategy.config)", "now": "\(config)"])
            saved.strategy = MomentumStrategy(config: config)
        }
        state = saved
        logger.info("strategy state restored", metadata: ["key": "\(Self.stateKey)"])
    }

    /// Evaluates a batch of `market_data` entries and commits the signals with the strategy before returning
    /// (so the batch may be acked).
    public func handle(_ entries: [StreamEntry]) async throws {
        if mustReload {
            try await reload()
            mustReload = false
        }
        var next = state
        var signals: [(stream: String, payload: String)] = []
        var counted = (ticks: 0, buys: 0, sells: 0)
        for entry in entries where next.applied.admit(entry, of: BusStream.marketData.rawValue) {
            switch EventEnvelope.decode(MarketTick.self, from: entry) {
            case .failure(let problem):
                malformed.increment()
                logger.warning("skipping malformed market_data entry", metadata: ["problem": "\(problem)"])
            case .success(let tick) where tick.source == .probe:
                probes.increment()
                logger.info("event-flow probe received", metadata: ["probe": "\(tick.id)"])
            case .success(let tick):
                counted.ticks += 1
                next.lastTickTime = tick.eventTime
                if let signal = next.strategy.evaluate(tick, now: tick.eventTime) {
                    if signal.side == .buy { counted.buys += 1 } else { counted.sells += 1 }
                    next.lastSignal = signal
                    signals.append((BusStream.signals.rawValue, EventEnvelope.encode(signal)))
                }
            }
        }
        do {
            try await publisher.commit(signals, state: StageState.saved(next, key: Self.stateKey))
        } catch {
            mustReload = true
            throw error
        }
        state = next
        ticks.increment(by: Int64(counted.ticks))
        buys.increment(by: Int64(counted.buys))
        sells.increment(by: Int64(counted.sells))
    }

    /// What `/status` shows.
    public func status() -> SignalStatus {
        SignalStatus(strategy: state.strategy.config, lastTickTime: state.lastTickTime, lastSignal: state.lastSignal)
    }
}
