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

/// cdb_execution's `/status` document: the clock it fills by, its taker fee and each symbol's newest quote.
public struct ExecutionStatus: Codable, Sendable, Equatable {
    /// A real trade price and when it was traded.
    public struct Quote: Codable, Sendable, Equatable {
        public var price: Double
        public var time: Date

        public init(price: Double, time: Date) {
            self.price = price
            self.time = time
        }
    }

    public var clock: String
    public var takerFeePct: Double
    public var lastQuotes: [String: Quote]

    public init(clock: String, takerFeePct: Double, lastQuotes: [String: Quote]) {
        self.clock = clock
        self.takerFeePct = takerFeePct
        self.lastQuotes = lastQuotes
    }

    enum CodingKeys: String, CodingKey {
        case clock
        case takerFeePct = "taker_fee_pct"
        case lastQuotes = "last_quotes"
    }
}

/// cdb_db_writer's `/status` document: rows stored per stream since it started, and when the last batch was.
public struct WriterStatus: Codable, Sendable, Equatable {
    public var rowsStored: [String: Int]
    public var lastBatchAt: Date?

    public init(rowsStored: [String: Int], lastBatchAt: Date?) {
        self.rowsStored = rowsStored
        self.lastBatchAt = lastBatchAt
    }

    enum CodingKeys: String, CodingKey {
        case rowsStored = "rows_stored"
        case lastBatchAt = "last_batch_at"
    }
}
