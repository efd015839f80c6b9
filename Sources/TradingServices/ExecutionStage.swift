import Foundation
import Logging
import Prometheus
import RedisClient
import ServiceHost
import TradingCore

/// cdb_execution's work: paper fills at the latest real market price, never a made-up one.
public actor ExecutionStage {
    private let model: PaperFillModel
    private let clock: TradingClock
    private let latency: Duration
    private let publisher: EventPublisher
    private let logger: Logger
    private var quotes: [String: PriceQuote] = [:]
    private var handled = RecentIDs(capacity: 50_000)
    private let filled: Counter
    private let rejected: Counter

    public init(model: PaperFillModel, clock: TradingClock, simulatedLatency: Duration, publisher: EventPublisher, metrics: ServiceMetrics, logger: Logger) {
        self.model = model
        self.clock = clock
        self.latency = simulatedLatency
        self.publisher = publisher
        self.logger = logger
        filled = metrics.counter("order_results_total", help: "Orders executed", labels: [("status", "FILLED")])
        rejected = metrics.counter("order_results_total", help: "Orders executed", labels: [("status", "REJECTED")])
    }

    /// Keeps the latest real price per symbol.
    public func handleMarketData(_ entries: [StreamEntry]) {
        for entry in entries {
            guard case .success(let tick) = EventEnvelope.decode(MarketTick.self, from: entry), tick.source != .probe else { continue }
            if let known = quotes[tick.symbol], known.time > tick.eventTime { continue }
            quotes[tick.symbol] = PriceQuote(price: tick.price, time: tick.eventTime, tickId: tick.id)
        }
    }

    /// Fills (or rejects) each new order against the latest quote and publishes the results.
    public func handleOrders(_ entries: [StreamEntry]) async throws {
        if latency > .zero { try await Task.sleep(for: latency) }
        var results: [(stream: String, payload: String)] = []
        for entry in entries {
            guard case .success(let order) = EventEnvelope.decode(OrderRequest.self, from: entry), handled.insert(order.id) else { continue }
            // An order that waited (service stopped) is judged by its own price time too: a fill only on fresh prices.
            let result = model.fill(order, quote: quotes[order.symbol], now: clock.now(for: order.eventTime))
            (result.status == .filled ? filled : rejected).increment()
            if result.status == .rejected {
                logger.warning("order rejected", metadata: ["order": "\(order.id)", "reason": "\(result.message ?? "")"])
            }
            results.append((BusStream.orderResults.rawValue, EventEnvelope.encode(result)))
        }
        try await publisher.publish(results)
    }

    /// What `/status` shows.
    public func status() -> [String: String] {
        var document = ["clock": clock.rawValue, "taker_fee_pct": String(model.takerFeePct)]
        for (symbol, quote) in quotes { document["last_price_\(symbol)"] = "\(quote.price) @ \(EventCoding.timestamp(quote.time))" }
        return document
    }
}
