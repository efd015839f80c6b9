#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What execution did with an `OrderRequest`.
public struct OrderResult: TradingEvent {
    /// Unique result id (UUID string).
    public let id: String
    /// Schema version of the JSON layout.
    public let schemaVersion: Int
    /// The order this result answers.
    public let orderId: String
    /// Trading pair.
    public let symbol: String
    /// Direction.
    public let side: OrderSide
    /// Filled or rejected.
    public let status: OrderStatus
    /// Quantity the order asked for.
    public let requestedQuantity: Double
    /// Quantity actually filled (0 when rejected).
    public let filledQuantity: Double
    /// Execution price including slippage; nil when rejected, never invented.
    public let fillPrice: Double?
    /// Fee paid in quote currency (0 when rejected).
    public let fee: Double
    /// Slippage applied (or that would have applied) as a fraction of the market price.
    public let slippagePct: Double
    /// Why the order was rejected; nil when filled.
    public let reason: RejectionReason?
    /// Human-readable detail for a rejection; nil when filled.
    public let message: String?
    /// When execution produced the result.
    public let eventTime: Date
    /// Id of the tick the order descends from.
    public let originTickId: String

    /// Creates an order result.
    public init(
        id: String,
        orderId: String,
        symbol: String,
        side: OrderSide,
        status: OrderStatus,
        requestedQuantity: Double,
        filledQuantity: Double,
        fillPrice: Double?,
        fee: Double,
        slippagePct: Double,
        reason: RejectionReason?,
        message: String?,
        eventTime: Date,
        originTickId: String,
        schemaVersion: Int = EventSchema.currentVersion
    ) {
        self.id = id
        self.schemaVersion = schemaVersion
        self.orderId = orderId
        self.symbol = symbol
        self.side = side
        self.status = status
        self.requestedQuantity = requestedQuantity
        self.filledQuantity = filledQuantity
        self.fillPrice = fillPrice
        self.fee = fee
        self.slippagePct = slippagePct
        self.reason = reason
        self.message = message
        self.eventTime = eventTime
        self.originTickId = originTickId
    }

    enum CodingKeys: String, CodingKey {
        case id
        case schemaVersion = "schema_version"
        case orderId = "order_id"
        case symbol
        case side
        case status
        case requestedQuantity = "requested_quantity"
        case filledQuantity = "filled_quantity"
        case fillPrice = "fill_price"
        case fee
        case slippagePct = "slippage_pct"
        case reason
        case message
        case eventTime = "event_time"
        case originTickId = "origin_tick_id"
    }
}
