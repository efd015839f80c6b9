#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StackContract
import TradingCore

/// One event the db writer persists, tagged with its kind (and so with its stream and table).
public enum StoredEvent: Sendable, Equatable {
    /// From stream `signals`, into table `signals`.
    case signal(TradingSignal)
    /// From stream `orders`, into table `orders` (status `APPROVED` until its result arrives).
    case order(OrderRequest)
    /// From stream `order_results`, completing the `orders` row of its order.
    case orderResult(OrderResult)
    /// From stream `trades`, into table `trades`.
    case trade(ClosedTrade)
    /// From stream `portfolio_snapshots`, into `portfolio_snapshots`, and maintaining `positions`.
    case portfolioSnapshot(PortfolioSnapshot)
    /// From stream `risk_events`, into table `risk_events`.
    case riskRejection(RiskRejection)

    /// Names of all persisted streams, for error messages and consumer-group set-up.
    public static var streamNames: [String] { BusStream.persisted.map(\.rawValue) }

    /// The stream this kind of event travels on.
    public var stream: BusStream {
        switch self {
        case .signal: .signals
        case .order: .orders
        case .orderResult: .orderResults
        case .trade: .trades
        case .portfolioSnapshot: .portfolioSnapshots
        case .riskRejection: .riskEvents
        }
    }

    /// The event's unique id (the row's primary key, except for order results, which complete their order's row).
    public var id: String { event.id }

    /// When the event happened.
    public var eventTime: Date { event.eventTime }

    /// Id of the market tick the event descends from.
    public var originTickId: String { event.originTickId }

    private var event: any TradingEvent {
        switch self {
        case .signal(let event): event
        case .order(let event): event
        case .orderResult(let event): event
        case .trade(let event): event
        case .portfolioSnapshot(let event): event
        case .riskRejection(let event): event
        }
    }

    /// Decodes one stream entry with TradingCore's `EventCoding.decoder` and checks it can be stored.
    ///
    /// Throws `unknownStream`, `undecodableEvent`, `unsupportedSchemaVersion` or `invalidEvent`, each naming the
    /// stream, so the caller can dead-letter just this entry.
    public static func decode(stream: String, json: [UInt8]) throws(TradeStoreError) -> StoredEvent {
        try decode(stream: stream, json: json, decoder: EventCoding.decoder)
    }

    /// Decodes every entry on its own: one bad entry yields a failure in its slot, never a failed batch.
    public static func decodeEach(_ entries: [EncodedEvent]) -> [Result<StoredEvent, TradeStoreError>] {
        let decoder = EventCoding.decoder
        return entries.map { entry in
            Result { () throws(TradeStoreError) in try decode(stream: entry.stream, json: entry.json, decoder: decoder) }
        }
    }

    private static func decode(stream: String, json: [UInt8], decoder: JSONDecoder) throws(TradeStoreError) -> StoredEvent {
        guard let kind = BusStream(rawValue: stream) else { throw .unknownStream(stream) }
        let event: StoredEvent?
        do {
            event = try Self.event(on: kind, from: Data(json), decoder: decoder)
        } catch let error as DecodingError {
            throw .undecodableEvent(stream: stream, problem: error.summary)
        } catch {
            throw .undecodableEvent(stream: stream, problem: String(describing: error))
        }
        guard let decoded = event else { throw .unknownStream(stream) }
        try decoded.validate()
        return decoded
    }

    /// The event of an entry of `stream`; nil for a stream that has no kind of stored event.
    private static func event(on stream: BusStream, from data: Data, decoder: JSONDecoder) throws -> StoredEvent? {
        switch stream {
        case .signals: .signal(try decoder.decode(TradingSignal.self, from: data))
        case .orders: .order(try decoder.decode(OrderRequest.self, from: data))
        case .orderResults: .orderResult(try decoder.decode(OrderResult.self, from: data))
        case .trades: .trade(try decoder.decode(ClosedTrade.self, from: data))
        case .portfolioSnapshots: .portfolioSnapshot(try decoder.decode(PortfolioSnapshot.self, from: data))
        case .riskEvents: .riskRejection(try decoder.decode(RiskRejection.self, from: data))
        case .marketData, .alerts: nil
        }
    }

    /// The event as stream JSON (`EventCoding.encoder`), paired with its stream name.
    public func encodedEvent() throws -> EncodedEvent {
        let encoder = EventCoding.encoder
        let data: Data
        switch self {
        case .signal(let event): data = try encoder.encode(event)
        case .order(let event): data = try encoder.encode(event)
        case .orderResult(let event): data = try encoder.encode(event)
        case .trade(let event): data = try encoder.encode(event)
        case .portfolioSnapshot(let event): data = try encoder.encode(event)
        case .riskRejection(let event): data = try encoder.encode(event)
        }
        return EncodedEvent(stream: stream.rawValue, json: Array(data))
    }

    /// Rejects what would make PostgreSQL refuse the whole batch, or what this build cannot interpret.
    private func validate() throws(TradeStoreError) {
        let stream = self.stream.rawValue
        let event = self.event
        guard event.schemaVersion <= EventSchema.currentVersion else {
            throw .unsupportedSchemaVersion(stream: stream, eventID: event.id, version: event.schemaVersion,
                                            supported: EventSchema.currentVersion)
        }
        guard event.schemaVersion >= 1 else {
            throw .invalidEvent(stream: stream, eventID: event.id, problem: "schema_version \(event.schemaVersion) is not positive")
        }
        guard !event.id.isEmpty else { throw .invalidEvent(stream: stream, eventID: "(empty)", problem: "the id is empty") }
        // PostgreSQL text cannot hold NUL; one such value would fail the COPY of the whole batch.
        if let field = textFields.first(where: { $0.value.utf8.contains(0) }) {
            throw .invalidEvent(stream: stream, eventID: event.id, problem: "\(field.name) contains a NUL character")
        }
        // timestamptz starts at 4713 BC but ISO text has no year 0: keep to years 1 and later.
        if let field = dates.first(where: { $0.value.timeIntervalSince1970 < -62_135_596_800 }) {
            throw .invalidEvent(stream: stream, eventID: event.id, problem: "\(field.name) lies before the year 1")
        }
    }

    private var textFields: [(name: String, value: String)] {
        let common = [("id", id), ("origin_tick_id", originTickId)]
        switch self {
        case .signal(let s):
            return common + [("symbol", s.symbol), ("strategy", s.strategy), ("reason", s.reason)]
        case .order(let o):
            return common + [("symbol", o.symbol), ("signal_id", o.signalId ?? "")]
        case .orderResult(let r):
            return common + [("order_id", r.orderId), ("symbol", r.symbol), ("message", r.message ?? "")]
        case .trade(let t):
            return common + [("symbol", t.symbol), ("order_id", t.orderId)]
        case .portfolioSnapshot(let p):
            return common + p.positions.map { ("positions.symbol", $0.symbol) }
        case .riskRejection(let r):
            return common + [("signal_id", r.signalId), ("symbol", r.symbol), ("message", r.message)]
        }
    }

    private var dates: [(name: String, value: Date)] {
        let common = [("event_time", eventTime)]
        switch self {
        case .signal(let s): return common + [("price_time", s.priceTime)]
        case .order(let o): return common + [("price_time", o.priceTime)]
        case .trade(let t): return common + [("opened_at", t.openedAt), ("closed_at", t.closedAt)]
        case .orderResult, .portfolioSnapshot, .riskRejection: return common
        }
    }
}

/// One raw entry read from a stream: its stream name and JSON payload.
public struct EncodedEvent: Sendable, Equatable {
    /// The stream it was read from, e.g. `order_results`.
    public var stream: String
    /// The event's JSON, as published.
    public var json: [UInt8]

    /// Pairs a payload with the stream it came from.
    public init(stream: String, json: [UInt8]) {
        self.stream = stream
        self.json = json
    }
}

extension DecodingError {
    /// A one-line account of the failure: which field, and what was wrong (also for cdbctl's reading of `/status` documents).
    public var summary: String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty ? "the top level" : "field '" + keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacing(".[", with: "[") + "'"
        }
        switch self {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))"
            return "missing field '\(key.stringValue)'\(parent)"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type) (\(context.debugDescription))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(type), got null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return "malformed JSON: \(context.underlyingError.map { "\($0)" } ?? context.debugDescription)"
            }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return String(describing: self)
        }
    }
}
