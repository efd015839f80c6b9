#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A full or partial close of a long position: one row of the `trades` table.
public struct ClosedTrade: TradingEvent {
    /// Unique trade id (UUID string).
    public let id: String
    /// Schema version of the JSON layout.
    public let schemaVersion: Int
    /// Trading pair.
    public let symbol: String
    /// Always `.long` on the spot account.
    public let side: PositionSide
    /// Closed quantity in base currency.
    public let size: Double
    /// Weighted average entry price of the closed quantity.
    public let entryPrice: Double
    /// Fill price of the closing SELL.
    public let exitPrice: Double
    /// Realized PnL net of the entry and exit fees attributable to `size`.
    public let pnl: Double
    /// Entry plus exit fees attributable to `size`.
    public let fees: Double
    /// When the position was opened.
    public let openedAt: Date
    /// When the closing fill happened.
    public let closedAt: Date
    /// Equal to `closedAt`; present so every event has an `event_time`.
    public let eventTime: Date
    /// The order whose fill closed the position.
    public let orderId: String
    /// Id of the tick the closing order descends from.
    public let originTickId: String

    /// Creates a closed trade; `eventTime` is set to `closedAt`.
    public init(
        id: String,
        symbol: String,
        size: Double,
        entryPrice: Double,
        exitPrice: Double,
        pnl: Double,
        fees: Double,
        openedAt: Date,
        closedAt: Date,
        orderId: String,
        originTickId: String,
        schemaVersion: Int = EventSchema.currentVersion
    ) {
        self.id = id
        self.schemaVersion = schemaVersion
        self.symbol = symbol
        self.side = .long
        self.size = size
        self.entryPrice = entryPrice
        self.exitPrice = exitPrice
        self.pnl = pnl
        self.fees = fees
        self.openedAt = openedAt
        self.closedAt = closedAt
        self.eventTime = closedAt
        self.orderId = orderId
        self.originTickId = originTickId
    }

    enum CodingKeys: String, CodingKey {
        case id
        case schemaVersion = "schema_version"
        case symbol
        case side
        case size
        case entryPrice = "entry_price"
        case exitPrice = "exit_price"
        case pnl
        case fees
        case openedAt = "opened_at"
        case closedAt = "closed_at"
        case eventTime = "event_time"
        case orderId = "order_id"
        case originTickId = "origin_tick_id"
    }
}
