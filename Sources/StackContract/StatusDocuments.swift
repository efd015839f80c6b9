#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TradingCore

/// cdb_risk's `/status` document (fractions, not percentages); runbook.yaml's `http` checks read its keys
/// (`daily_drawdown`, `total_exposure_pct`, `trading_state`, `equity`).
public struct RiskStatus: Codable, Sendable {
    public var equity: Double
    public var cash: Double
    public var dailyDrawdown: Double
    public var drawdownFromPeak: Double
    public var totalExposurePct: Double
    public var tradingState: String
    public var openPositions: [PositionSnapshot]
    public var pendingOrders: Int
    public var limits: RiskLimits
    public var approved: Int
    public var rejected: Int
    public var clock: String
    public var time: Date

    public init(equity: Double, cash: Double, dailyDrawdown: Double, drawdownFromPeak: Double, totalExposurePct: Double,
                tradingState: String, openPositions: [PositionSnapshot], pendingOrders: Int, limits: RiskLimits,
                approved: Int, rejected: Int, clock: String, time: Date) {
        self.equity = equity
        self.cash = cash
        self.dailyDrawdown = dailyDrawdown
        self.drawdownFromPeak = drawdownFromPeak
        self.totalExposurePct = totalExposurePct
        self.tradingState = tradingState
        self.openPositions = openPositions
        self.pendingOrders = pendingOrders
        self.limits = limits
        self.approved = approved
        self.rejected = rejected
        self.clock = clock
        self.time = time
    }

    enum CodingKeys: String, CodingKey {
        case equity, cash, limits, approved, rejected, clock, time
        case dailyDrawdown = "daily_drawdown"
        case drawdownFromPeak = "drawdown_from_peak"
        case totalExposurePct = "total_exposure_pct"
        case tradingState = "trading_state"
        case openPositions = "open_positions"
        case pendingOrders = "pending_orders"
    }
}

/// cdb_core's `/status` document.
public struct SignalStatus: Codable, Sendable {
    public var strategy: MomentumStrategyConfig
    public var lastTickTime: Date?
    public var lastSignal: TradingSignal?

    public init(strategy: MomentumStrategyConfig, lastTickTime: Date?, lastSignal: TradingSignal?) {
        self.strategy = strategy
        self.lastTickTime = lastTickTime
        self.lastSignal = lastSignal
    }

    enum CodingKeys: String, CodingKey {
        case strategy
        case lastTickTime = "last_tick_time"
        case lastSignal = "last_signal"
    }
}
