#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RedisClient
import StackContract
import TradingCore

/// How events travel on the bus: JSON (TradingCore's coding) in the stream field `event`.
public enum EventEnvelope {
    /// The stream field that carries the event.
    public static let field = BusStream.eventField

    /// Decodes the event of `entry`, or says what is wrong with it.
    public static func decode<Event: Decodable>(_ type: Event.Type, from entry: StreamEntry) -> Result<Event, MalformedEvent> {
        decode(entry) { try EventCoding.decoder.decode(type, from: Data($0)) }
    }

    /// Decodes a market tick: the hot path, through `MarketTick`'s own codec (same result, a fraction of the cost).
    public static func decode(_ type: MarketTick.Type, from entry: StreamEntry) -> Result<MarketTick, MalformedEvent> {
        decode(entry, with: MarketTick.fromBusJSON)
    }

    private static func decode<Event>(_ entry: StreamEntry, with decoder: ([UInt8]) throws -> Event) -> Result<Event, MalformedEvent> {
        guard let bytes = entry.fields[field] else {
            return .failure(MalformedEvent(entryID: entry.id, reason: "no '\(field)' field"))
        }
        do {
            return .success(try decoder(bytes))
        } catch {
            return .failure(MalformedEvent(entryID: entry.id, reason: "\(error)"))
        }
    }

    /// Encodes an event as the JSON text that goes on the bus.
    public static func encode(_ event: some Encodable) -> String {
        // TradingCore's events are plain Codable values; encoding them cannot fail.
        String(decoding: (try? EventCoding.encoder.encode(event)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Encodes a market tick (the feed's hot path) through `MarketTick`'s own codec: the same bytes.
    public static func encode(_ tick: MarketTick) -> String {
        tick.busJSON()
    }
}

/// A stream entry that does not hold a readable event; it is counted, logged and acknowledged (never retried forever).
public struct MalformedEvent: Error, CustomStringConvertible, Sendable {
    public var entryID: String
    public var reason: String
    public var description: String { "entry \(entryID): \(reason)" }

    public init(entryID: String, reason: String) {
        self.entryID = entryID
        self.reason = reason
    }
}
