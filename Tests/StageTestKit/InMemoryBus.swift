import EventBus
import RedisClient
import StackContract
import TradingCore
import TradingServices

/// The bus in memory: records what a stage commits, per stream and in order, as the entries a consumer
/// of that stream would read, and the states saved with them, so a test can assert on them, hand them to the
/// next stage, or build a second stage on the same bus (a restart).
public actor InMemoryBus: EventSink, StateStore {
    /// How the next commit goes wrong, as Redis can.
    private enum Fault {
        /// Nothing is stored (the connection was gone before EXEC).
        case storeNothing(any Error)
        /// Everything is stored, then the reply is lost (the connection broke after EXEC).
        case loseReply(any Error)
    }

    private var streams: [String: [StreamEntry]] = [:]
    private var states: [String: [UInt8]] = [:]
    private var sequence = 0
    private var pendingFault: Fault?
    /// How many commits were stored.
    public private(set) var commits = 0

    public init() {}

    /// Appends the events with ids `1-0`, `2-0`, … (one sequence across streams, like one Redis clock) and saves `state`.
    @discardableResult
    public func commit(_ events: [(stream: String, payload: String)], state: SavedState?) async throws -> [String] {
        let fault = pendingFault
        pendingFault = nil
        if case .storeNothing(let error) = fault { throw error }
        if let state { states[state.key] = state.bytes }
        commits += 1
        let ids = events.map { event in
            sequence += 1
            let entry = StreamEntry(id: "\(sequence)-0", fields: [BusStream.eventField: Array(event.payload.utf8)])
            streams[event.stream, default: []].append(entry)
            return entry.id
        }
        if case .loseReply(let error) = fault { throw error }
        return ids
    }

    public func load(_ key: String) async throws -> [UInt8]? { states[key] }

    /// Makes the next commit throw `error` and store nothing, as a lost Redis would.
    public func failNextCommit(with error: any Error) {
        pendingFault = .storeNothing(error)
    }

    /// Makes the next commit store everything and then throw `error`, as a reply lost after EXEC would.
    public func loseNextReply(with error: any Error) {
        pendingFault = .loseReply(error)
    }

    /// Puts `bytes` under `key`, as a state saved by an earlier run (or a damaged one).
    public func seedState(_ key: String, _ bytes: [UInt8]) {
        states[key] = bytes
    }

    /// The state saved under `key` as text (JSON), empty when none was saved.
    public func savedText(_ key: String) -> String {
        String(decoding: states[key] ?? [], as: UTF8.self)
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
