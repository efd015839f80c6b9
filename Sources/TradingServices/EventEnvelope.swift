#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RedisClient
import ServiceHost
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
}

/// The ids most recently handled, so a redelivered event is recognised and not acted on twice.
public struct RecentIDs: Codable, Sendable, Equatable {
    private var order: [String] = []
    private var members: Set<String> = []
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    // Saved as the ordered ids only: the set is rebuilt on load, so cdb_risk's saved state carries each
    // id once (it was half the state's size and encoding time). States saved with `members` still load.
    private enum CodingKeys: String, CodingKey {
        case order, capacity
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        capacity = try container.decode(Int.self, forKey: .capacity)
        order = try container.decode([String].self, forKey: .order)
        members = Set(order)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(order, forKey: .order)
        try container.encode(capacity, forKey: .capacity)
    }

    public func contains(_ id: String) -> Bool { members.contains(id) }

    /// Records `id`; returns false when it was already there (a duplicate).
    public mutating func insert(_ id: String) -> Bool {
        guard members.insert(id).inserted else { return false }
        order.append(id)
        if order.count > capacity {
            let evicted = order.count - capacity
            for old in order.prefix(evicted) { members.remove(old) }
            order.removeFirst(evicted)
        }
        return true
    }
}

/// Reads the machine's clock: the services pass `TradingClock.machineTime`, the stage tests a clock they set.
public typealias WallTime = @Sendable () -> Date

/// Which clock a stage judges staleness and UTC days by.
public enum TradingClock: String, Sendable, Codable {
    /// The machine's clock: live trading.
    case wall
    /// Each event's own time: replays, where a month passes in minutes and the stages read their
    /// streams at different paces, so "now" must be the moment the event describes.
    case market

    /// The time to judge an event stamped `eventTime` by; `wallTime` reads the machine's clock.
    public func now(for eventTime: Date, wallTime: WallTime) -> Date {
        self == .market ? eventTime : wallTime()
    }

    /// The machine's clock as the services read it.
    public static let machineTime: WallTime = { Date() }

    /// The clock `CLOCK` names; the catalogue admits only `wall` and `market`, and a value it refused reads as `wall`.
    public init(reading env: EnvironmentReader) {
        self = TradingClock(rawValue: env.read(.clock)) ?? .wall
    }
}
