import Foundation
import PostgresClient
import RedisClient
import StackContract
import YAMLParser
import Primitives

/// The streams cdb_db_writer stores into a table of the same name, keyed by the event id.
public enum PersistedStreams {
    public static let tables = BusStream.persisted.compactMap(\.table)
}

/// `type: persistence`: every event still on the persisted `streams` (older than `settle`) has its row, and no
/// signal led to two orders nor an order to two trades. With `caughtUp`, events still waiting for the writer fail it too.
public struct PersistenceCheck: CheckType {
    public var streams: [String]
    public var settle: Duration
    public var group: String
    public var caughtUp: Bool

    public static let typeName = "persistence"
    public static let keys = ["streams", "settle", "group", "caught_up"]

    public static func decode(from reader: CheckReader) -> PersistenceCheck? {
        let streams = reader.strings("streams") ?? PersistedStreams.tables
        for stream in streams where !PersistedStreams.tables.contains(stream) {
            reader.error("\(reader.what).streams: '\(stream)' is not a persisted stream (one of \(PersistedStreams.tables.joined(separator: ", ")))", at: reader["streams"]!.mark)
        }
        return PersistenceCheck(streams: streams, settle: reader.optional("settle", as: Duration.self) ?? .seconds(10),
                                group: reader.optional("group", as: String.self) ?? "cdb_db_writer",
                                caughtUp: reader.optional("caught_up", as: Bool.self) ?? false)
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.persistence(streams: streams, settle: settle, group: group, caughtUp: caughtUp)
    }
}

extension CheckContext {
    /// "No event lost or duplicated", made exact: every event on a persisted stream that the writer's group
    /// has acknowledged (delivered, not pending, older than `settle`) has its row, and no signal led to two
    /// orders nor an order to two trades (a redelivery acted on twice). Events still waiting for the writer,
    /// e.g. during a database outage, are delayed, not lost, and are counted as waiting (a failure only
    /// with `caughtUp`, as after a restore that hands them to the writer again).
    fileprivate func persistence(streams: [String], settle: Duration, group: String, caughtUp: Bool) async throws -> CheckOutcome {
        let redis = try await RedisConnection(stack.redis)
        defer { Task { await redis.close() } }
        let db = try await PostgresConnection(stack.postgres)
        defer { Task { await db.close() } }
        // Entries stored up to `settle` ago, through the last one of that millisecond.
        let cutoff = StreamID.last(inMillisecond: UInt64(max(0, (Date().timeIntervalSince1970 - settle.seconds) * 1000)))
        var problems: [String] = []
        var counted: [String] = []
        var figures: [String: Double] = [:]
        for stream in streams {
            guard let writer = try await redis.groups(of: stream).first(where: { $0.name == group }) else {
                problems.append("no consumer group \(group) on \(stream): nothing stores it")
                continue
            }
            let pending = try await redis.pending(stream, group: group)
            // Acknowledged = delivered up to last-delivered-id, minus what is still pending.
            let acknowledged = min(cutoff, StreamID(writer.lastDeliveredID) ?? .zero)
            var end = acknowledged.description
            if let oldestPending = pending.smallestID.flatMap({ StreamID($0) }), oldestPending <= acknowledged { end = "(\(oldestPending)" }
            let waiting = (writer.lag ?? 0) + pending.count
            if waiting > 0 {
                figures["waiting.\(stream)"] = Double(waiting)
                if caughtUp { problems.append("\(waiting) events on \(stream) still waiting for \(group)") }
            }
            let ids = try await eventIDs(on: stream, upTo: end, redis)
            var missing: [String] = []
            for chunk in stride(from: 0, to: ids.count, by: 1000).map({ Array(ids[$0..<min($0 + 1000, ids.count)]) }) {
                // The table name comes from PersistedStreams (validated when the runbook was read), never from input.
                let rows = try await db.query("SELECT id FROM \(stream) WHERE id = ANY(string_to_array($1, ','))",
                                              [chunk.joined(separator: ",")])
                let stored = Set(rows.compactMap { $0["id"] })
                missing += chunk.filter { !stored.contains($0) }
            }
            figures["events.\(stream)"] = Double(ids.count)
            figures["missing.\(stream)"] = Double(missing.count)
            counted.append("\(stream) \(ids.count)" + (waiting > 0 ? " (\(waiting) waiting for \(group))" : ""))
            if !missing.isEmpty {
                problems.append("\(missing.count) of \(ids.count) events on \(stream) have no row in table \(stream) (first: \(missing.prefix(3).joined(separator: ", ")))")
            }
        }
        for (table, key, parent) in [("orders", "signal_id", "signals"), ("trades", "order_id", "orders")] where streams.contains(table) {
            let twice = try await db.query("""
                SELECT \(key) AS parent, COUNT(*) AS n FROM \(table) WHERE \(key) IS NOT NULL
                GROUP BY \(key) HAVING COUNT(*) > 1 ORDER BY \(key) LIMIT 3
                """)
            figures["duplicated.\(table)"] = Double(twice.count)
            if !twice.isEmpty {
                let examples = twice.map { "\($0["parent"] ?? "?") ×\($0["n"] ?? "?")" }.joined(separator: ", ")
                problems.append("\(table): one of \(parent) acted on more than once (\(examples))")
            }
        }
        let summary = "events stored by \(group), each once: " + counted.joined(separator: ", ")
        return problems.isEmpty ? .pass(summary, figures: figures) : .fail(problems.joined(separator: "; "), figures: figures)
    }

    /// The event ids of `stream` up to the stream id `end`, read in pages.
    fileprivate func eventIDs(on stream: String, upTo end: String, _ redis: RedisConnection) async throws -> [String] {
        struct Identified: Decodable { var id: String }
        let decoder = JSONDecoder()
        var ids: [String] = []
        var start = "-"
        while true {
            let page = try await redis.range(stream, from: start, to: end, count: 1000)
            for entry in page {
                // An entry without a readable event is cdb_db_writer's to count as malformed, not a loss.
                if let bytes = entry.fields[BusStream.eventField], let event = try? decoder.decode(Identified.self, from: Data(bytes)) {
                    ids.append(event.id)
                }
            }
            guard page.count == 1000, let last = page.last else { return ids }
            start = "(" + last.id
        }
    }
}
