/// The streams of the event bus, each mirrored on the Pub/Sub channel of the same name.
///
/// The one list the services publish and consume by, cdb_db_writer persists by and cdbctl checks by.
public enum BusStream: String, CaseIterable, Sendable {
    case marketData = "market_data"
    case signals
    case orders
    case orderResults = "order_results"
    case trades
    case portfolioSnapshots = "portfolio_snapshots"
    case riskEvents = "risk_events"
    case alerts

    /// The entry field that carries the event's JSON (every entry has exactly this one field).
    public static let eventField = "event"

    /// The streams cdb_db_writer stores in PostgreSQL, in the order it consumes them.
    public static let persisted: [BusStream] = [.signals, .orders, .orderResults, .trades, .portfolioSnapshots, .riskEvents]

    /// Whether cdb_db_writer stores this stream's events.
    public var isPersisted: Bool { Self.persisted.contains(self) }

    /// The table holding one row per event of this stream, keyed by the event id; nil for a stream that is not
    /// persisted and for `order_results`, whose events complete their order's `orders` row instead.
    public var table: String? {
        isPersisted && self != .orderResults ? rawValue : nil
    }
}
