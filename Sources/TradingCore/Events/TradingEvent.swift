#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Fields every stream message carries, so consumers can route, deduplicate and measure
/// end-to-end latency without knowing the concrete type.
public protocol TradingEvent: Codable, Sendable, Equatable {
    /// Unique id of this event (UUID string).
    var id: String { get }
    /// Version of the JSON layout the event was written with.
    var schemaVersion: Int { get }
    /// When the event happened (for a tick: exchange time; otherwise when it was produced).
    var eventTime: Date { get }
    /// Id of the market tick this event descends from, for tick-to-event latency.
    var originTickId: String { get }
}

/// Version bookkeeping for the message schema.
public enum EventSchema {
    /// The schema version this library writes.
    public static let currentVersion = 1
}
