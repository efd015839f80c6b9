#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// PnL of one UTC calendar day.
public struct DailyPnl: Codable, Sendable, Equatable {
    /// UTC date as `YYYY-MM-DD`.
    public let date: String
    /// Sum of the day's closed-trade PnL.
    public let pnl: Double
    /// Number of trades closed that day.
    public let tradeCount: Int

    /// Creates a daily line.
    public init(date: String, pnl: Double, tradeCount: Int) {
        self.date = date
        self.pnl = pnl
        self.tradeCount = tradeCount
    }

    enum CodingKeys: String, CodingKey {
        case date
        case pnl
        case tradeCount = "trade_count"
    }
}

/// Performance statistics over closed trades and equity series, as pure functions.
///
/// A win is a trade with `pnl > 0`, a loss one with `pnl < 0`; break-even trades count only in
/// the win-rate denominator.
public enum PerformanceMetrics {
    /// Sum of all trades' PnL.
    public static func totalPnl(_ trades: [ClosedTrade]) -> Double {
        trades.reduce(0) { $0 + $1.pnl }
    }

    /// Percentage (0–100) of trades with positive PnL; nil without trades.
    public static func winRatePercent(_ trades: [ClosedTrade]) -> Double? {
        guard !trades.isEmpty else { return nil }
        return Double(trades.filter { $0.pnl > 0 }.count) / Double(trades.count) * 100
    }

    /// Mean PnL of winning trades; nil without wins.
    public static func averageWin(_ trades: [ClosedTrade]) -> Double? {
        mean(trades.map(\.pnl).filter { $0 > 0 })
    }

    /// Mean PnL of losing trades (a negative number); nil without losses.
    public static func averageLoss(_ trades: [ClosedTrade]) -> Double? {
        mean(trades.map(\.pnl).filter { $0 < 0 })
    }

    /// The project's profit factor: average win / |average loss|; nil without wins or losses.
    public static func profitFactor(_ trades: [ClosedTrade]) -> Double? {
        guard let win = averageWin(trades), let loss = averageLoss(trades) else { return nil }
        return win / abs(loss)
    }

    /// Most negative `(equity − running peak) / running peak × 100` over the series, i.e. the
    /// SQL `MIN((equity_usd - peak_equity) / peak_equity * 100)`; 0 for a series that never
    /// falls, nil for an empty series. Points before a positive peak exists are skipped.
    public static func maxDrawdownPercent(equity: [Double]) -> Double? {
        guard !equity.isEmpty else { return nil }
        var peak = -Double.infinity
        var worst = 0.0
        for value in equity {
            peak = max(peak, value)
            guard peak > 0 else { continue }
            worst = min(worst, (value - peak) / peak * 100)
        }
        return worst
    }

    /// PnL per UTC day of `closedAt`, oldest day first; days without trades are absent.
    public static func dailyPnl(_ trades: [ClosedTrade]) -> [DailyPnl] {
        Dictionary(grouping: trades) { UTCCalendar.dayNumber(of: $0.closedAt) }
            .sorted { $0.key < $1.key }
            .map { day, dayTrades in
                DailyPnl(date: UTCCalendar.dateString(ofDay: day), pnl: totalPnl(dayTrades), tradeCount: dayTrades.count)
            }
    }

    private static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
}
