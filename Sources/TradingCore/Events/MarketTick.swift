#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One trade (or bar close) observed on the market; the root of every event chain.
public struct MarketTick: TradingEvent {
    /// Unique tick id (UUID string).
    public let id: String
    /// Schema version of the JSON layout.
    public let schemaVersion: Int
    /// Trading pair, e.g. `BTCUSDT`.
    public let symbol: String
    /// Traded price in quote currency (USD).
    public let price: Double
    /// Traded quantity in base currency.
    public let quantity: Double
    /// Side of the aggressor (taker), when the source reports it.
    public let aggressorSide: OrderSide?
    /// Exchange time of the trade.
    public let eventTime: Date
    /// Feed the tick came from.
    public let source: TickSource
    /// Always equal to `id`: a tick is its own origin.
    public let originTickId: String

    /// Creates a tick; `originTickId` is set to `id`.
    public init(
        id: String,
        symbol: String,
        price: Double,
        quantity: Double,
        aggressorSide: OrderSide? = nil,
        eventTime: Date,
        source: TickSource,
        schemaVersion: Int = EventSchema.currentVersion
    ) {
        self.init(
            id: id, schemaVersion: schemaVersion, symbol: symbol, price: price, quantity: quantity,
            aggressorSide: aggressorSide, eventTime: eventTime, source: source, originTickId: id)
    }

    /// Every field as decoded from the bus, `originTickId` included.
    init(
        id: String, schemaVersion: Int, symbol: String, price: Double, quantity: Double,
        aggressorSide: OrderSide?, eventTime: Date, source: TickSource, originTickId: String
    ) {
        self.id = id
        self.schemaVersion = schemaVersion
        self.symbol = symbol
        self.price = price
        self.quantity = quantity
        self.aggressorSide = aggressorSide
        self.eventTime = eventTime
        self.source = source
        self.originTickId = originTickId
    }

    enum CodingKeys: String, CodingKey {
        case id
        case schemaVersion = "schema_version"
        case symbol
        case price
        case quantity
        case aggressorSide = "aggressor_side"
        case eventTime = "event_time"
        case source
        case originTickId = "origin_tick_id"
    }
}
