import Foundation
import LocalServers
import PostgresClient
import Primitives
import TradeStore
import TradingCore
import Testing

@Suite("Bulk loading")
struct BulkLoadTests {
    /// `count` events in a repeating mix: 30 % signals, 20 % orders, 20 % results, 15 % trades, 5 % snapshots, 10 % rejections.
    static func mixedEvents(_ count: Int) -> [StoredEvent] {
        let start = Date(timeIntervalSince1970: 1_767_225_600)
        let symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
        return (0..<count).map { index in
            let time = start + Double(index)
            let symbol = symbols[index % 3]
            let tick = "tick-\(index)"
            switch index % 20 {
            case 0..<6:
                return .signal(TradingSignal(id: "sig-\(index)", symbol: symbol, side: .buy, confidence: 0.7, price: 100 + Double(index),
                                             strategy: "momentum", reason: "breakout\tcolumn\\test", eventTime: time,
                                             originTickId: tick, priceTime: time))
            case 6..<10:
                return .order(OrderRequest(id: "ord-\(index)", signalId: "sig-\(index - 6)", symbol: symbol, side: .buy,
                                           quantity: 0.5, referencePrice: 100, priceTime: time, maxSlippagePct: 0.005,
                                           reduceOnly: false, eventTime: time, originTickId: tick))
            case 10..<14:
                // Results for the orders four slots earlier in the same batch: they meet inside one transaction.
                return .orderResult(OrderResult(id: "res-\(index)", orderId: "ord-\(index - 4)", symbol: symbol, side: .buy,
                                                status: .filled, requestedQuantity: 0.5, filledQuantity: 0.5, fillPrice: 100.05,
                                                fee: 0.05, slippagePct: 0.0005, reason: nil, message: nil, eventTime: time,
                                                originTickId: tick))
            case 14..<17:
                return .trade(ClosedTrade(id: "trd-\(index)", symbol: symbol, size: 0.5, entryPrice: 100, exitPrice: 101,
                                          pnl: index % 2 == 0 ? 0.4 : -0.6, fees: 0.1, openedAt: time - 60, closedAt: time,
                                          orderId: "ord-close-\(index)", originTickId: tick))
            case 17:
                return .portfolioSnapshot(PortfolioSnapshot(
                    id: "snap-\(index)", eventTime: time, originTickId: tick, equity: 10_000 + Double(index % 97), cash: 9_000,
                    totalExposure: 1_000, totalExposurePct: 0.1, dailyDrawdownPct: 0, drawdownFromPeakPct: 0.001,
                    realizedPnl: 1, unrealizedPnl: 2, openPositions: 2, tradingState: .active,
                    positions: [PositionSnapshot(symbol: "BTCUSDT", size: 0.01, entryPrice: 50_000, currentPrice: 50_100, unrealizedPnl: 1),
                                PositionSnapshot(symbol: symbol, size: 1, entryPrice: 100, currentPrice: 101, unrealizedPnl: 1)]))
            default:
                return .riskRejection(RiskRejection(id: "rej-\(index)", signalId: "sig-\(index - 18)", symbol: symbol, side: .buy,
                                                    reason: .totalExposureLimit, message: "exposure 31% would exceed 30%",
                                                    eventTime: time, originTickId: tick))
            }
        }
    }

    @Test("20,000 mixed events persist in one call, and the rate is reported")
    func twentyThousandEvents() async throws {
        let store = try await freshStore()
        let events = Self.mixedEvents(20_000)
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = try await store.persist(events)
        let elapsed = clock.now - started
        let seconds = elapsed.seconds

        #expect(outcome.signals.inserted == 6_000 && outcome.orders.inserted == 4_000)
        #expect(outcome.orderResults == WriteCounts(merged: 4_000))
        #expect(outcome.trades.inserted == 3_000 && outcome.portfolioSnapshots.inserted == 1_000)
        #expect(outcome.riskEvents.inserted == 2_000 && outcome.duplicates == 0)
        let filled = try await singleRow(store.connection, "SELECT count(*) AS n FROM orders WHERE status = 'FILLED'")
        #expect(try filled.decode("n", as: Int.self) == 4_000)
        let reason = try await singleRow(store.connection, "SELECT reason FROM signals ORDER BY id LIMIT 1")
        #expect(reason["reason"] == "breakout\tcolumn\\test")

        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        print("TradeStore bulk load: \(events.count) events in \(String(format: "%.3f", seconds)) s = "
              + "\(Int(Double(events.count) / seconds)) rows/s (\(build) build, one transaction)")
    }
}
