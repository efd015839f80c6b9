import Foundation
import LocalServers
import PostgresClient
import TradeStore
import TradingCore
import Testing

@Suite("Batch persistence: orders meeting results, positions from snapshots, percent columns")
struct PersistenceTests {
    private func order(_ id: String, at time: Date) -> OrderRequest {
        OrderRequest(id: id, signalId: "sig-\(id)", symbol: "BTCUSDT", side: .buy, quantity: 0.02, referencePrice: 50_000,
                     priceTime: time, maxSlippagePct: 0.005, reduceOnly: false, eventTime: time, originTickId: "tick-\(id)")
    }

    private func result(for order: OrderRequest, at time: Date) -> OrderResult {
        OrderResult(id: "res-\(order.id)", orderId: order.id, symbol: order.symbol, side: order.side, status: .filled,
                    requestedQuantity: order.quantity, filledQuantity: order.quantity, fillPrice: 50_025, fee: 1.0005,
                    slippagePct: 0.0005, reason: nil, message: nil, eventTime: time, originTickId: order.originTickId)
    }

    private func orderRow(_ store: TradeStore, _ id: String) async throws -> PostgresRow {
        try await singleRow(store.connection, "SELECT * FROM orders WHERE id = '\(id)'")
    }

    @Test("an order then its result, or its result then the order, end as the same FILLED row")
    func orderAndResultInEitherOrder() async throws {
        let store = try await freshStore()
        let time = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
        let first = order("a", at: time)
        let second = order("b", at: time)

        #expect(try await store.persist([.order(first)]).orders == WriteCounts(inserted: 1))
        #expect(try await orderRow(store, "a")["status"] == "APPROVED")
        #expect(try await store.persist([.orderResult(result(for: first, at: time + 1))]).orderResults == WriteCounts(merged: 1))

        #expect(try await store.persist([.orderResult(result(for: second, at: time + 1))]).orderResults == WriteCounts(inserted: 1))
        let early = try await orderRow(store, "b")
        #expect(early["status"] == "FILLED" && early["timestamp"] == nil && early["reference_price"] == nil)
        #expect(try await store.persist([.order(second)]).orders == WriteCounts(merged: 1))

        let a = try await orderRow(store, "a")
        let b = try await orderRow(store, "b")
        #expect(a["signal_id"] == "sig-a" && b["signal_id"] == "sig-b")
        for column in ["status", "quantity", "reference_price", "timestamp", "filled_quantity", "fill_price",
                       "fee", "slippage_pct", "filled_at", "reduce_only", "max_slippage_pct"] {
            #expect(a[column] == b[column], "column \(column)")
        }
        #expect(a["status"] == "FILLED")
        #expect(try a.decode("slippage_pct", as: Double.self) == 0.05)  // percent of 0.0005
        #expect(try a.decode("max_slippage_pct", as: Double.self) == 0.5)
        #expect(try a.decode("filled_at", as: Date.self) == time + 1)

        // Redeliveries of either event change nothing.
        let again = try await store.persist([.order(first), .orderResult(result(for: second, at: time + 1))])
        #expect(again.orders == WriteCounts(duplicates: 1) && again.orderResults == WriteCounts(duplicates: 1))
    }

    @Test("a rejected result records its reason and message, and no fill time")
    func rejectedResult() async throws {
        let store = try await freshStore()
        let time = Date(timeIntervalSince1970: 1_767_225_600)
        let request = order("r", at: time)
        let rejection = OrderResult(id: "res-r", orderId: "r", symbol: "BTCUSDT", side: .buy, status: .rejected,
                                    requestedQuantity: 0.02, filledQuantity: 0, fillPrice: nil, fee: 0, slippagePct: 0.007,
                                    reason: .slippageLimit, message: "slippage 0.70% exceeds 0.50%", eventTime: time + 1,
                                    originTickId: "tick-r")
        _ = try await store.persist([.orderResult(rejection), .order(request)])
        let row = try await orderRow(store, "r")
        #expect(row["status"] == "REJECTED" && row["reason"] == "SLIPPAGE_LIMIT")
        #expect(row["message"] == "slippage 0.70% exceeds 0.50%")
        #expect(row["filled_at"] == nil && row["fill_price"] == nil && row["result_at"] != nil)
    }

    @Test("snapshot fractions are stored as percent, with the positions list as JSON")
    func snapshotPercent() async throws {
        let store = try await freshStore()
        let snapshot = PortfolioSnapshot(
            id: "s", eventTime: Date(timeIntervalSince1970: 1_767_225_600), originTickId: "t", equity: 10_000, cash: 7_500,
            totalExposure: 2_500, totalExposurePct: 0.25, dailyDrawdownPct: 0.0125, drawdownFromPeakPct: 0.05,
            realizedPnl: 12, unrealizedPnl: -3, openPositions: 1, tradingState: .dayHalted,
            positions: [PositionSnapshot(symbol: "BTCUSDT", size: 0.05, entryPrice: 50_000, currentPrice: 50_000, unrealizedPnl: -3)])
        _ = try await store.persist([.portfolioSnapshot(snapshot)])
        let row = try await singleRow(store.connection, "SELECT *, positions->0->>'symbol' AS first_symbol FROM portfolio_snapshots")
        #expect(try row.decode("total_exposure_pct", as: Double.self) == 25)
        #expect(try row.decode("daily_drawdown_pct", as: Double.self) == 1.25)
        #expect(try row.decode("drawdown_from_peak_pct", as: Double.self) == 5)
        #expect(try row.decode("equity_usd", as: Double.self) == 10_000 && row.decode("cash_usd", as: Double.self) == 7_500)
        #expect(row["trading_state"] == "DAY_HALTED" && row["first_symbol"] == "BTCUSDT")
    }

    @Test("a position missing from a newer snapshot is closed; an older snapshot arriving late changes nothing")
    func positionsFollowNewestSnapshot() async throws {
        let store = try await freshStore()
        let start = Date(timeIntervalSince1970: 1_767_225_600)
        func snapshot(_ id: String, minutes: Double, _ positions: [PositionSnapshot]) -> StoredEvent {
            .portfolioSnapshot(PortfolioSnapshot(
                id: id, eventTime: start + minutes * 60, originTickId: "t-\(id)", equity: 10_000, cash: 9_000,
                totalExposure: 1_000, totalExposurePct: 0.1, dailyDrawdownPct: 0, drawdownFromPeakPct: 0, realizedPnl: 0,
                unrealizedPnl: 0, openPositions: positions.count, tradingState: .active, positions: positions))
        }
        func line(_ symbol: String, _ price: Double) -> PositionSnapshot {
            PositionSnapshot(symbol: symbol, size: 1, entryPrice: 100, currentPrice: price, unrealizedPnl: price - 100)
        }
        func positions() async throws -> [String: (status: String, price: String, closedAt: String?)] {
            var result: [String: (String, String, String?)] = [:]
            for row in try await store.connection.query("SELECT symbol, status, current_price, closed_at FROM positions") {
                result[row["symbol"] ?? ""] = (row["status"] ?? "", row["current_price"] ?? "", row["closed_at"])
            }
            return result
        }

        _ = try await store.persist([snapshot("s1", minutes: 0, [line("BTCUSDT", 101), line("SOLUSDT", 20)])])
        #expect(try await positions().mapValues(\.status) == ["BTCUSDT": "open", "SOLUSDT": "open"])

        let outcome = try await store.persist([snapshot("s3", minutes: 20, [line("BTCUSDT", 103)])])
        #expect(outcome.positionsChanged == 2)
        var now = try await positions()
        #expect(now["SOLUSDT"]?.status == "closed" && now["SOLUSDT"]?.price == "20")  // size and marks kept as last seen
        #expect(now["BTCUSDT"]?.status == "open" && now["BTCUSDT"]?.price == "103")
        let closedAtS3 = try #require(now["SOLUSDT"]?.closedAt)

        // s2 sits between s1 and s3: it must not reopen anything or overwrite BTC's newer mark, but it moves
        // SOL's close time earlier (SOL was already gone at s2) and records ETH, held only in between.
        _ = try await store.persist([snapshot("s2", minutes: 10, [line("BTCUSDT", 102), line("ETHUSDT", 5)])])
        now = try await positions()
        #expect(now["BTCUSDT"]?.status == "open" && now["BTCUSDT"]?.price == "103")
        #expect(now["SOLUSDT"]?.status == "closed" && now["SOLUSDT"]?.closedAt != closedAtS3)
        #expect(now["ETHUSDT"]?.status == "closed" && now["ETHUSDT"]?.closedAt == closedAtS3)

        // An empty newest snapshot closes everything.
        _ = try await store.persist([snapshot("s4", minutes: 30, [])])
        #expect(try await positions().values.allSatisfy { $0.status == "closed" })
    }
}
