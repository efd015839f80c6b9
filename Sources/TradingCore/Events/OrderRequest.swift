#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An order the risk engine approved and hands to execution.
public struct OrderRequest: TradingEvent {
    /// Unique order id (UUID string).
    public let id: String
    /// Schema version of the JSON layout.
    public let schemaVersion: Int
    /// The signal this order answers; nil for risk-initiated drift reductions.
    public let signalId: String?
    /// Trading pair.
    public let symbol: String
    /// Direction.
    public let side: OrderSide
    /// Quantity in base currency.
    public let quantity: Double
    /// Market price the order was sized with.
    public let referencePrice: Double
    /// Time of `referencePrice`.
    public let priceTime: Date
    /// Execution must reject the order if its slippage would exceed this fraction.
    public let maxSlippagePct: Double
    /// True when the order may only shrink an existing long position.
    public let reduceOnly: Bool
    /// When risk approved the order.
    public let eventTime: Date
    /// Id of the tick the order descends from.
    public let originTickId: String

    /// Creates an order request.
    public init(
        id: String,
        signalId: String?,
        symbol: String,
        side: OrderSide,
        quantity: Double,
        referencePrice: Double,
        priceTime: Date,
        maxSlippagePct: Double,
        reduceOnly: Bool,
        eventTime: Date,
        originTickId: String,
        schemaVersion: Int = EventSchema.currentVersion
    ) {
        self.id = id
        self.schemaVersion = schemaVersion
        self.signalId = signalId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.referencePrice = referencePrice
        self.priceTime = priceTime
        self.maxSlippagePct = maxSlippagePct
        self.reduceOnly = reduceOnly
        self.eventTime = eventTime
        self.originTickId = originTickId
    }

    enum CodingKeys: String, CodingKey {
        case id
        case schemaVersion = "schema_version"
        case signalId = "signal_id"
        case symbol
        case side
        case quantity
        case referencePrice = "reference_price"
        case priceTime = "price_time"
        case maxSlippagePct = "max_slippage_pct"
        case reduceOnly = "reduce_only"
        case eventTime = "event_time"
        case originTickId = "origin_tick_id"
    }
}
