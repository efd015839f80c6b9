#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Periodic picture of the account and risk state, for dashboards and the `portfolio_snapshots` table.
public struct PortfolioSnapshot: TradingEvent {
    /// Unique snapshot id (UUID string).
    public let id: String
    /// Schema version of the JSON layout.
    public let schemaVersion: Int
    /// Time the snapshot describes.
    public let eventTime: Date
    /// Id of the latest tick that marked the portfolio (the snapshot's own id before any tick).
    public let originTickId: String
    /// Cash plus mark-to-market value of all positions.
    public let equity: Double
    /// Quote-currency balance after all fills and fees.
    public let cash: Double
    /// Sum of |size × last price| over open positions, in USD.
    public let totalExposure: Double
    /// `totalExposure` as a fraction of equity (0 when equity is not positive).
    public let totalExposurePct: Double
    /// Loss since the start of the UTC day as a fraction of day-start equity (0 when up).
    public let dailyDrawdownPct: Double
    /// Loss from the all-time peak equity as a fraction of the peak.
    public let drawdownFromPeakPct: Double
    /// PnL of closed trades, net of their fees.
    public let realizedPnl: Double
    /// Mark-to-market PnL of open positions, net of their entry fees.
    public let unrealizedPnl: Double
    /// Number of open positions.
    public let openPositions: Int
    /// Risk state at `eventTime`.
    public let tradingState: TradingState
    /// Open positions sorted by symbol.
    public let positions: [PositionSnapshot]

    /// Creates a snapshot.
    public init(
        id: String,
        eventTime: Date,
        originTickId: String,
        equity: Double,
        cash: Double,
        totalExposure: Double,
        totalExposurePct: Double,
        dailyDrawdownPct: Double,
        drawdownFromPeakPct: Double,
        realizedPnl: Double,
        unrealizedPnl: Double,
        openPositions: Int,
        tradingState: TradingState,
        positions: [PositionSnapshot],
        schemaVersion: Int = EventSchema.currentVersion
    ) {
        self.id = id
        self.schemaVersion = schemaVersion
        self.eventTime = eventTime
        self.originTickId = originTickId
        self.equity = equity
        self.cash = cash
        self.totalExposure = totalExposure
        self.totalExposurePct = totalExposurePct
        self.dailyDrawdownPct = dailyDrawdownPct
        self.drawdownFromPeakPct = drawdownFromPeakPct
        self.realizedPnl = realizedPnl
        self.unrealizedPnl = unrealizedPnl
        self.openPositions = openPositions
        self.tradingState = tradingState
        self.positions = positions
    }

    enum CodingKeys: String, CodingKey {
        case id
        case schemaVersion = "schema_version"
        case eventTime = "event_time"
        case originTickId = "origin_tick_id"
        case equity
        case cash
        case totalExposure = "total_exposure"
        case totalExposurePct = "total_exposure_pct"
        case dailyDrawdownPct = "daily_drawdown_pct"
        case drawdownFromPeakPct = "drawdown_from_peak_pct"
        case realizedPnl = "realized_pnl"
        case unrealizedPnl = "unrealized_pnl"
        case openPositions = "open_positions"
        case tradingState = "trading_state"
        case positions
    }
}

/// One open position inside a `PortfolioSnapshot`.
public struct PositionSnapshot: Codable, Sendable, Equatable {
    /// Trading pair.
    public let symbol: String
    /// Always `.long` on the spot account.
    public let side: PositionSide
    /// Quantity held in base currency.
    public let size: Double
    /// Weighted average entry price.
    public let entryPrice: Double
    /// Latest mark price.
    public let currentPrice: Double
    /// Mark-to-market PnL net of the position's entry fees.
    public let unrealizedPnl: Double

    /// Creates a position line.
    public init(symbol: String, size: Double, entryPrice: Double, currentPrice: Double, unrealizedPnl: Double) {
        self.symbol = symbol
        self.side = .long
        self.size = size
        self.entryPrice = entryPrice
        self.currentPrice = currentPrice
        self.unrealizedPnl = unrealizedPnl
    }

    enum CodingKeys: String, CodingKey {
        case symbol
        case side
        case size
        case entryPrice = "entry_price"
        case currentPrice = "current_price"
        case unrealizedPnl = "unrealized_pnl"
    }
}
