import Foundation
import LocalServers
import PostgresClient
import TradeStore
import TradingCore

/// A migrated store on a database of its own (tests share the server, never data).
func freshStore() async throws -> TradeStore {
    let server = try await SharedServers.postgres()
    return try await TradeStore.open(try await server.createDatabase())
}

/// Row count and an MD5 over every row of each table, leaving out the wall-clock columns
/// (`received_at`, `result_received_at`, `updated_at`), so two databases fed the same events compare equal.
func fingerprints(_ db: PostgresConnection) async throws -> [String: String] {
    var result: [String: String] = [:]
    for (table, key) in [("signals", "id"), ("orders", "id"), ("trades", "id"), ("positions", "symbol"),
                         ("portfolio_snapshots", "id"), ("risk_events", "id")] {
        let row = try await db.query("""
            SELECT count(*) AS n,
                   md5(coalesce(string_agg((to_jsonb(t) - 'received_at' - 'result_received_at' - 'updated_at')::text,
                                           '|' ORDER BY t.\(key)), '')) AS digest
            FROM \(table) t
            """).first
        result[table] = "\(row?["n"] ?? "?"):\(row?["digest"] ?? "?")"
    }
    return result
}

/// The first row of `sql`, which must return one.
func singleRow(_ db: PostgresConnection, _ sql: String) async throws -> PostgresRow {
    let rows = try await db.query(sql)
    guard let row = rows.first else { throw FixtureError("no row from: \(sql)") }
    return row
}

/// Equal up to floating-point noise (sums of doubles, ×100 percent conversion).
func approximately(_ value: Double?, _ expected: Double, tolerance: Double = 1e-6) -> Bool {
    guard let value else { return false }
    return abs(value - expected) <= tolerance * max(1, abs(expected))
}

/// `YYYY-MM-DD` of the UTC day containing `date`, as PostgreSQL's `DATE(timestamptz)` prints it in a UTC session.
func utcDay(_ date: Date) -> String { String(EventCoding.timestamp(date).prefix(10)) }

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A small paper-trading history relative to `now`, with every number the runbook queries should report
/// worked out by hand (see the comments on each part).
struct RunbookFixture {
    let now: Date
    let signals: [TradingSignal]
    let orders: [OrderRequest]
    let results: [OrderResult]
    let trades: [ClosedTrade]
    let snapshots: [PortfolioSnapshot]
    let rejections: [RiskRejection]

    func ago(hours: Double) -> Date { now.addingTimeInterval(-hours * 3600) }

    init(now: Date = Date()) {
        self.now = now
        func ago(_ hours: Double) -> Date { now.addingTimeInterval(-hours * 3600) }

        // Five signals: four inside the last 24 hours (1h, 2h, 5h, 23h ago), one outside (30h).
        signals = [1.0, 2, 5, 23, 30].enumerated().map { index, hours in
            TradingSignal(id: "sig-\(index + 1)", symbol: ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BTCUSDT", "ETHUSDT"][index],
                          side: .buy, confidence: 0.8, price: 50_000, strategy: "momentum", reason: "breakout",
                          eventTime: ago(hours), originTickId: "tick-sig-\(index + 1)", priceTime: ago(hours))
        }

        // Four orders: o1 and o2 filled, o3 still approved, o4 (a risk reduction, no signal) rejected.
        orders = [
            OrderRequest(id: "ord-1", signalId: "sig-1", symbol: "BTCUSDT", side: .buy, quantity: 0.01, referencePrice: 50_000,
                         priceTime: ago(2), maxSlippagePct: 0.005, reduceOnly: false, eventTime: ago(2), originTickId: "tick-o1"),
            OrderRequest(id: "ord-2", signalId: "sig-2", symbol: "ETHUSDT", side: .buy, quantity: 0.5, referencePrice: 3_000,
                         priceTime: ago(2), maxSlippagePct: 0.005, reduceOnly: false, eventTime: ago(2), originTickId: "tick-o2"),
            OrderRequest(id: "ord-3", signalId: "sig-3", symbol: "SOLUSDT", side: .buy, quantity: 1, referencePrice: 150,
                         priceTime: ago(5), maxSlippagePct: 0.005, reduceOnly: false, eventTime: ago(5), originTickId: "tick-o3"),
            OrderRequest(id: "ord-4", signalId: nil, symbol: "BTCUSDT", side: .sell, quantity: 0.005, referencePrice: 49_000,
                         priceTime: ago(3), maxSlippagePct: 0.005, reduceOnly: true, eventTime: ago(3), originTickId: "tick-o4"),
        ]
        results = [
            OrderResult(id: "res-1", orderId: "ord-1", symbol: "BTCUSDT", side: .buy, status: .filled, requestedQuantity: 0.01,
                        filledQuantity: 0.01, fillPrice: 50_010, fee: 0.5, slippagePct: 0.0002, reason: nil, message: nil,
                        eventTime: ago(1.99), originTickId: "tick-o1"),
            OrderResult(id: "res-2", orderId: "ord-2", symbol: "ETHUSDT", side: .buy, status: .filled, requestedQuantity: 0.5,
                        filledQuantity: 0.5, fillPrice: 3_001, fee: 1.5, slippagePct: 0.0003, reason: nil, message: nil,
                        eventTime: ago(1.99), originTickId: "tick-o2"),
            OrderResult(id: "res-4", orderId: "ord-4", symbol: "BTCUSDT", side: .sell, status: .rejected, requestedQuantity: 0.005,
                        filledQuantity: 0, fillPrice: nil, fee: 0, slippagePct: 0.006, reason: .slippageLimit,
                        message: "slippage 0.60% exceeds 0.50%", eventTime: ago(2.99), originTickId: "tick-o4"),
        ]

        // Five closed trades. All: PnL +100 −40 +60 −20 +0 = 100; 2 wins of 5 = 40 %; avg win 80, avg loss −30,
        // profit factor 80/30. Last 24 h (2h, 3h, 20h ago): 3 trades, 2 wins, 1 loss, PnL 120, average 40.
        let tradeSpecs: [(String, Double, Double, Double, Double)] = [
            // symbol, size, entry, pnl, hours ago
            ("BTCUSDT", 0.01, 50_000, 100, 2), ("ETHUSDT", 0.5, 3_000, -40, 3), ("SOLUSDT", 1, 150, 60, 20),
            ("BTCUSDT", 0.02, 49_000, -20, 30), ("ETHUSDT", 0.1, 2_900, 0, 48),
        ]
        trades = tradeSpecs.enumerated().map { index, spec in
            let (symbol, size, entry, pnl, hours) = spec
            return ClosedTrade(id: "trd-\(index + 1)", symbol: symbol, size: size, entryPrice: entry,
                               exitPrice: entry + (pnl + 1) / size, pnl: pnl, fees: 1, openedAt: ago(hours + 6),
                               closedAt: ago(hours), orderId: "ord-close-\(index + 1)", originTickId: "tick-t\(index + 1)")
        }

        // Six snapshots over more than a day (so at least two UTC days). Peaks 10000, 10200, 10200, 10300, 10300,
        // 10300: the deepest drawdown is (9900 − 10200) / 10200 = −2.941176 %. Last 24 h (20h, 10h, 2h, 1h ago):
        // max exposure 31 %, min equity 9900, max equity 10300.
        let btc = PositionSnapshot(symbol: "BTCUSDT", size: 0.01, entryPrice: 50_010, currentPrice: 51_000, unrealizedPnl: 9.4)
        let eth = PositionSnapshot(symbol: "ETHUSDT", size: 0.5, entryPrice: 3_001, currentPrice: 3_050, unrealizedPnl: 23)
        let sol = PositionSnapshot(symbol: "SOLUSDT", size: 1, entryPrice: 150, currentPrice: 149, unrealizedPnl: -1.2)
        let snapshotSpecs: [(Double, Double, Double, [PositionSnapshot])] = [
            // hours ago, equity, exposure fraction, positions
            (50, 10_000, 0.10, []), (30, 10_200, 0.25, [btc]), (20, 9_900, 0.05, [btc]),
            (10, 10_300, 0.31, [btc, sol]), (2, 10_100, 0.20, [btc, eth]), (1, 10_250, 0.15, [btc, eth]),
        ]
        snapshots = snapshotSpecs.enumerated().map { index, spec in
            let (hours, equity, exposure, positions) = spec
            return PortfolioSnapshot(id: "snap-\(index + 1)", eventTime: ago(hours), originTickId: "tick-s\(index + 1)",
                                     equity: equity, cash: equity * (1 - exposure), totalExposure: equity * exposure,
                                     totalExposurePct: exposure, dailyDrawdownPct: 0.01, drawdownFromPeakPct: 0.02,
                                     realizedPnl: 100, unrealizedPnl: 32.4, openPositions: positions.count,
                                     tradingState: .active, positions: positions)
        }

        rejections = [
            RiskRejection(id: "rej-1", signalId: "sig-4", symbol: "BTCUSDT", side: .buy, reason: .positionLimit,
                          message: "BTCUSDT notional 1050 would exceed 10% of equity 10250", eventTime: ago(23),
                          originTickId: "tick-sig-4"),
            RiskRejection(id: "rej-2", signalId: "sig-5", symbol: "ETHUSDT", side: .buy, reason: .totalExposureLimit,
                          message: "exposure 31% would exceed 30%", eventTime: ago(30), originTickId: "tick-sig-5"),
        ]
    }

    /// Every event once.
    var allEvents: [StoredEvent] {
        signals.map(StoredEvent.signal) + orders.map(StoredEvent.order) + results.map(StoredEvent.orderResult)
            + trades.map(StoredEvent.trade) + snapshots.map(StoredEvent.portfolioSnapshot)
            + rejections.map(StoredEvent.riskRejection)
    }

    /// The events split so that two order results (ord-2 filled, ord-4 rejected) arrive one batch before their
    /// orders, while ord-1 and its result arrive together.
    var resultFirstBatches: [[StoredEvent]] {
        let early = results.filter { $0.orderId != "ord-1" }.map(StoredEvent.orderResult)
        let earlyIDs = Set(early.map(\.id))
        return [early, allEvents.filter { !earlyIDs.contains($0.id) }]
    }
}
