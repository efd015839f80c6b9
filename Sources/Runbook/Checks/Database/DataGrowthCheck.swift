import Foundation
import PostgresClient
import YAMLParser
import Primitives

/// `type: data_growth`: the five tables' row counts, compared with the previous monitor cycle (seed §4.1), and the
/// age of the newest row of each `must_grow` table, which fails the step beyond `window`.
public struct DataGrowthCheck: CheckType {
    public var mustGrow: [String]
    public var window: Duration

    public static let typeName = "data_growth"
    public static let keys = ["must_grow", "window"]

    /// The event tables whose newest row's `timestamp` `must_grow` may judge (never text that reaches SQL otherwise);
    /// positions are counted but have no event time.
    static let tables = ["signals", "orders", "trades", "portfolio_snapshots"]

    public static func decode(from reader: CheckReader) -> DataGrowthCheck? {
        let mustGrow = reader.strings("must_grow") ?? ["signals"]
        for table in mustGrow where !tables.contains(table) {
            var message = "\(reader.what).must_grow: unknown table '\(table)' (one of \(tables.joined(separator: ", ")))"
            if let suggestion = closestMatch(to: table, among: tables) { message += " (did you mean '\(suggestion)'?)" }
            reader.error(message, at: reader["must_grow"]!.mark)
        }
        return DataGrowthCheck(mustGrow: mustGrow,
                        window: reader.optional("window", as: Duration.self) ?? .seconds(3600))
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.dataGrowth(mustGrow: mustGrow, window: window)
    }
}

extension CheckContext {
    /// Seed §4.1: the five tables' row counts, compared with the previous monitor cycle.
    fileprivate func dataGrowth(mustGrow: [String], window: Duration) async throws -> CheckOutcome {
        let db = try await PostgresConnection(stack.postgres)
        defer { Task { await db.close() } }
        let rows = try await db.query("""
            SELECT 'signals' AS table_name, COUNT(*) AS count FROM signals
            UNION ALL SELECT 'orders', COUNT(*) FROM orders
            UNION ALL SELECT 'trades', COUNT(*) FROM trades
            UNION ALL SELECT 'positions', COUNT(*) FROM positions
            UNION ALL SELECT 'portfolio_snapshots', COUNT(*) FROM portfolio_snapshots
            """)
        var counts: [String: Double] = [:]
        for row in rows { counts["rows.\(row["table_name"] ?? "?")"] = row["count"].flatMap(Double.init) ?? 0 }
        let now = Date()
        let previous = command.previousCycle?.results.first { $0.figures.keys.contains { $0.hasPrefix("rows.") } }
        let summary = counts.keys.sorted().map { key in
            let name = String(key.dropFirst("rows.".count))
            let delta = previous?.figures[key].map { " (\(Self.signed(counts[key]! - $0)))" } ?? ""
            return "\(name) \(Int(counts[key]!))\(delta)"
        }.joined(separator: ", ")
        let since = command.previousCycle.map { " since \(Int(now.timeIntervalSince($0.startedAt) / 60)) min ago" } ?? "; first cycle"
        // Seed §4.2 "No new signals > 1h" is about the newest row's age, not about growth since a cycle 4 h ago:
        // PostgreSQL's own clock against the event times it stored.
        var stale: [String] = []
        for table in mustGrow {
            let row = try await db.query("SELECT EXTRACT(EPOCH FROM now() - max(timestamp)) AS age FROM \(table)").first
            guard let age = row?["age"].flatMap(Double.init) else {
                stale.append("\(table): no row yet")
                continue
            }
            counts["newest_age_s.\(table)"] = age
            if age > window.seconds { stale.append("\(table): newest row \(Self.minutes(age)) old") }
        }
        if !stale.isEmpty {
            return .fail("\(stale.joined(separator: "; ")) (alarm after \(window.secondsText)): \(summary)\(since)", figures: counts)
        }
        let ages = mustGrow.compactMap { table in counts["newest_age_s.\(table)"].map { "newest \(table) \(Self.minutes($0)) old" } }
        return .pass(summary + since + "; " + ages.joined(separator: ", "), figures: counts)
    }

    fileprivate static func minutes(_ seconds: Double) -> String {
        seconds < 120 ? "\(Int(seconds)) s" : "\(Int(seconds / 60)) min"
    }

    fileprivate static func signed(_ value: Double) -> String { value >= 0 ? "+\(Int(value))" : "\(Int(value))" }
}
