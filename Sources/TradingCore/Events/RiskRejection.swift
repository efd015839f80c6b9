#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The risk engine's refusal of a signal, published so rejections are auditable.
public struct RiskRejection: TradingEvent {
    /// Unique rejection id (UUID string).
    public let id: String
    /// Schema version of the JSON layout.
    public let schemaVersion: Int
    /// The rejected signal.
    public let signalId: String
    /// Trading pair.
    public let symbol: String
    /// Direction the signal wanted.
    public let side: OrderSide
    /// Machine-readable rule that refused it.
    public let reason: RejectionReason
    /// Human-readable detail with the numbers involved.
    public let message: String
    /// When risk refused the signal.
    public let eventTime: Date
    /// Id of the tick the signal descends from.
    public let originTickId: String

    /// Creates a rejection.
    public init(
        id: String,
        signalId: String,
        symbol: String,
        side: OrderSide,
        reason: RejectionReason,
        message: String,
        eventTime: Date,
        originTickId: String,
        schemaVersion: Int = EventSchema.currentVersion
    ) {
        self.id = id
        self.schemaVersion = schemaVersion
        self.signalId = signalId
        self.symbol = symbol
        self.side = side
        self.reason = reason
        self.message = message
        self.eventTime = eventTime
        self.originTickId = originTickId
    }

    enum CodingKeys: String, CodingKey {
        case id
        case schemaVersion = "schema_version"
        case signalId = "signal_id"
        case symbol
        case side
        case reason
        case message
        case eventTime = "event_time"
        case originTickId = "origin_tick_id"
    }
}
