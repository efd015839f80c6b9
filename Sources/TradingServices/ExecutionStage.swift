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

/// cdb_execution's work: paper fills at a real market price, never a made-up one.
///
/// With the wall clock (live) an order fills at the latest quote. With the market clock (replays, where a
/// month passes in minutes and this stage reads market data at its own pace) it fills at the quote as of
/// the order's price time, the price risk sized it by; an order priced later than the newest quote known
/// waits up to `marketWait` for market data to catch up.
///
/// Exactly once: a batch's results are committed with the orders handled and the position reached on
/// `orders`, so an order redelivered after a crash is recognised and a failed commit leaves it unhandled.
/// The quotes are not saved: they are marks, and the next ticks bring them back.
public actor ExecutionStage {
    struct State: Codable {
        var handled = RecentIDs(capacity: 50_000)
        var applied = AppliedPositions()
    }

    public static let stateKey = SavedStateKeys.executionStage

    private let model: PaperFillModel
    private let clock: TradingClock
    private let latency: Duration
    private let marketWait: Duration
    private let publisher: any EventSink
    private let store: any StateStore
    private let wallTime: WallTime
    private let logger: Logger
    private var quotes: [String: QuoteHistory] = [:]
    private var state = State()
    /// Set when a commit failed: what Redis holds may be ahead of or behind `state`, so it is read again.
    private var mustReload = false
    private let filled: Counter
    private let rejected: Counter
    private let marketWaitsExpired: Counter

    public init(
        model: PaperFillModel, clock: TradingClock, simulatedLatency: Duration, marketWait: Duration, publisher: any EventSink,
        store: any StateStore, metrics: ServiceMetrics, logger: Logger, wallTime: @escaping WallTime = TradingClock.machineTime
    ) async throws {
        self.model = model
        self.clock = clock
        self.latency = simulatedLatency
        self.marketWait = marketWait
        self.publisher = publisher
        self.store = store
        self.wallTime = wallTime
        self.logger = logger
        filled = metrics.counter("order_results_total", help: "Orders executed", labels: [("status", "FILLED")])
        rejected = metrics.counter("order_results_total", help: "Orders executed", labels: [("status", "REJECTED")])
        marketWaitsExpired = metrics.counter(
            "market_clock_waits_expired_total", help: "Market clock: orders handled before market data reached their time")
        do {
            state = try await StageState.load(State.self, key: Self.stateKey, from: store) ?? State()
        } catch let error as RedisError {
            StageState.deferLoad(key: Self.stateKey, error: error, logger: logger)
            mustReload = true
        }
    }

    /// Keeps the recent real prices per symbol (only the latest with the wall clock).
    public func handleMarketData(_ entries: [StreamEntry]) {
        for entry in entries {
            guard case .success(let tick) = EventEnvelope.decode(MarketTick.self, from: entry), tick.source != .probe else { continue }
            quotes[tick.symbol, default: QuoteHistory(capacity: clock == .market ? 100_000 : 1)]
                .record(PriceQuote(price: tick.price, time: tick.eventTime, tickId: tick.id))
        }
    }

    /// The quote an order fills against: the latest, or with the market clock the one as of its price time.
    private func quote(for order: OrderRequest) async throws -> PriceQuote? {
        guard clock == .market else { return quotes[order.symbol]?.latest }
        let deadline = ContinuousClock.now + marketWait
        while (quotes[order.symbol]?.latestTime ?? .distantPast) < order.priceTime {
            guard ContinuousClock.now < deadline else {
                marketWaitsExpired.increment()
                logger.warning("market data did not reach the order's price time; filling at the newest quote", metadata: [
                    "order": "\(order.id)", "price_time": "\(EventCoding.timestamp(order.priceTime))"])
                return quotes[order.symbol]?.latest
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        return quotes[order.symbol]?.quote(asOf: order.priceTime)
    }

    /// Fills (or rejects) each new order against the latest quote and publishes the results.
    public func handleOrders(_ entries: [StreamEntry]) async throws {
        if mustReload {
            state = try await StageState.load(State.self, key: Self.stateKey, from: store) ?? State()
            mustReload = false
        }
        if latency > .zero { try await Task.sleep(for: latency) }
        var next = state
        var results: [(stream: String, payload: String)] = []
        var outcomes: [OrderResult] = []
        for entry in entries where next.applied.admit(entry, of: BusStream.orders.rawValue) {
            guard case .success(let order) = EventEnvelope.decode(OrderRequest.self, from: entry), next.handled.insert(order.id) else { continue }
            // An order that waited (service stopped) is judged by its own price time too: a fill only on fresh prices.
            let result = model.fill(order, quote: try await quote(for: order), now: clock.now(for: order.eventTime, wallTime: wallTime))
            outcomes.append(result)
            results.append((BusStream.orderResults.rawValue, EventEnvelope.encode(result)))
        }
        do {
            try await publisher.commit(results, state: StageState.saved(next, key: Self.stateKey))
        } catch {
            mustReload = true
            throw error
        }
        state = next
        for result in outcomes {
            (result.status == .filled ? filled : rejected).increment()
            if result.status == .rejected {
                logger.warning("order rejected", metadata: ["order": "\(result.orderId)", "reason": "\(result.message ?? "")"])
            }
        }
    }

    /// What `/status` shows.
    public func status() -> ExecutionStatus {
        ExecutionStatus(clock: clock.rawValue, takerFeePct: model.takerFeePct,
                        lastQuotes: quotes.compactMapValues { $0.latest.map { ExecutionStatus.Quote(price: $0.price, time: $0.time) } })
    }
}
