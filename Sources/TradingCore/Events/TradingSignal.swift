#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A strategy's opinion that a symbol should be bought or sold, before any risk check.
public struct TradingSignal: TradingEvent {
    /// Unique signal id (UUID string).
    public let id: String
    /// Schema version of the JSON layout.
    public let schemaVersion: Int
    /// Trading pair.
    public let symbol: String
    /// Desired direction.
    public let side: OrderSide
    /// Strength of the signal in [0, 1]; scales the position size.
    public let confidence: Double
    /// The tick price that triggered the signal.
    public let price: Double
    /// Name of the strategy that produced it.
    public let strategy: String
    /// Short human-readable explanation.
    public let reason: String
    /// When the signal was produced.
    public let eventTime: Date
    /// Id of the tick that triggered it.
    public let originTickId: String
    /// Time of the price in `price`; the risk engine checks it for staleness.
    public let priceTime: Date

    /// Creates a signal.
    public init(
        id: String,
        symbol: String,
        side: OrderSide,
        confidence: Double,
        price: Double,
        strategy: String,
        reason: String,
        eventTime: Date,
        originTickId: String,
        priceTime: Date,
        schemaVersion: Int = EventSchema.currentVersion
    ) {
        self.id = id
        self.schemaVersion = schemaVersion
        self.symbol = symbol
        self.side = side
        self.confidence = confidence
        self.price = price
        self.strategy = strategy
        self.reason = reason
        self.eventTime = eventTime
        self.originTickId = originTickId
        self.priceTime = priceTime
    }

    enum CodingKeys: String, CodingKey {
        case id
        case schemaVersion = "schema_version"
        case symbol
        case side
        case confidence
        case price
        case strategy
        case reason
        case eventTime = "event_time"
        case originTickId = "origin_tick_id"
        case priceTime = "price_time"
    }
}
