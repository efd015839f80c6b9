import Foundation
import Testing
import TradingCore

@Suite("Performance metrics")
struct PerformanceMetricsTests {
    private func trade(_ pnl: Double, closedAt: Date = TestClock.at(0)) -> ClosedTrade {
        ClosedTrade(
            id: UUID().uuidString, symbol: "BTCUSDT", size: 1, entryPrice: 100, exitPrice: 100 + pnl, pnl: pnl,
            fees: 0, openedAt: closedAt, closedAt: closedAt, orderId: "o", originTickId: "t"
        )
    }

    private var sample: [ClosedTrade] {
        [100, -50, 0, 200, -150].map { trade($0) }
    }

    @Test("total PnL, win rate, average win and loss and profit factor match hand-computed values")
    func tradeStatistics() {
        #expect(PerformanceMetrics.totalPnl(sample) == 100)
        #expect(PerformanceMetrics.winRatePercent(sample) == 40)    // 2 of 5, break-even counts as not a win
        #expect(PerformanceMetrics.averageWin(sample) == 150)       // (100 + 200) / 2
        #expect(PerformanceMetrics.averageLoss(sample) == -100)     // (−50 − 150) / 2
        #expect(PerformanceMetrics.profitFactor(sample) == 1.5)     // 150 / |−100|
    }

    @Test("statistics without data are nil, and profit factor needs both wins and losses")
    func undefinedStatistics() {
        #expect(PerformanceMetrics.totalPnl([]) == 0)
        #expect(PerformanceMetrics.winRatePercent([]) == nil)
        #expect(PerformanceMetrics.averageWin([trade(-1)]) == nil)
        #expect(PerformanceMetrics.averageLoss([trade(1)]) == nil)
        #expect(PerformanceMetrics.profitFactor([trade(1), trade(2)]) == nil)
    }

    @Test("max drawdown is the most negative percentage below the running peak")
    func maxDrawdown() {
        // Peaks 100, 120, 120, 130, 130 → 0, 0, −25 %, 0, −10 %.
        #expect(PerformanceMetrics.maxDrawdownPercent(equity: [100, 120, 90, 130, 117]) == -25)
        #expect(PerformanceMetrics.maxDrawdownPercent(equity: [100, 101, 102]) == 0)
        #expect(PerformanceMetrics.maxDrawdownPercent(equity: []) == nil)
    }

    @Test("daily PnL groups trades by the UTC date they closed, oldest first")
    func dailyGrouping() {
        let trades = [
            trade(200, closedAt: TestClock.at(2 * 86_400 + 5)),
            trade(100, closedAt: TestClock.at(36_000)),
            trade(-50, closedAt: TestClock.at(86_399.999)),
            trade(0, closedAt: TestClock.at(86_400)),
            trade(-150, closedAt: TestClock.at(3 * 86_400 - 1)),
        ]
        #expect(PerformanceMetrics.dailyPnl(trades) == [
            DailyPnl(date: "2026-01-01", pnl: 50, tradeCount: 2),
            DailyPnl(date: "2026-01-02", pnl: 0, tradeCount: 1),
            DailyPnl(date: "2026-01-03", pnl: 50, tradeCount: 2),
        ])
    }
}
