import EventBus
import RedisClient
import StackContract
import TradingCore
import TradingServices

/// The bus in memory: records what a stage publishes, per stream and in order, as the entries a consumer
/// of that stream would read, so a test can assert on them or hand them to the next stage.
public actor InMemoryBus: EventSink {
    private var streams: [String: [StreamEntry]] = [:]
    private var sequence = 0
    private var pendingFailure: (any Error)?

    public init() {}

    /// Appends the events with ids `1-0`, `2-0`, … (one sequence across streams, like one Redis clock).
    @discardableResult
    public func publish(_ events: [(stream: String, payload: String)]) async throws -> [String] {
        if let failure = pendingFailure {
            pendingFailure = nil
            throw failure
        }
        return events.map { event in
            sequence += 1
            let entry = StreamEntry(id: "\(sequence)-0", fields: [BusStream.eventField: Array(event.payload.utf8)])
            streams[event.stream, default: []].append(entry)
            return entry.id
        }
    }

    /// Makes the next `publish` throw `error` and store nothing, as a lost Redis would.
    public func failNextPublish(with error: any Error) {
        pendingFailure = error
    }

    /// Everything published on `stream`, oldest first.
    public func entries(on stream: BusStream) -> [StreamEntry] {
        streams[stream.rawValue] ?? []
    }

    /// The events published on `stream`, decoded as `type`; throws on an entry that does not hold one.
    public func events<Event: Decodable & Sendable>(_ type: Event.Type, on stream: BusStream) throws -> [Event] {
        try entries(on: stream).map { try EventEnvelope.decode(type, from: $0).get() }
    }

    /// The alerts published (cdb_risk's `alerts` are plain objects, not TradingCore events).
    public func alerts() throws -> [[String: String]] {
        try events([String: String].self, on: .alerts)
    }
}

/// Stream entries as a consumer reads them off the bus, built from events.
public enum BusEntry {
    /// An entry holding `event` in the `event` field, as `EventPublisher` writes it.
    public static func of(_ event: some Encodable, id: String) -> StreamEntry {
        StreamEntry(id: id, fields: [BusStream.eventField: Array(EventEnvelope.encode(event).utf8)])
    }

    /// A market tick's entry, through the feed's own codec (the bytes cdb_ws publishes).
    public static func of(_ tick: MarketTick, id: String) -> StreamEntry {
        StreamEntry(id: id, fields: [BusStream.eventField: Array(EventEnvelope.encode(tick).utf8)])
    }

    /// Entries for `ticks`, numbered from `1-0`.
    public static func ticks(_ ticks: [MarketTick]) -> [StreamEntry] {
        ticks.enumerated().map { of($1, id: "\($0 + 1)-0") }
    }
}
