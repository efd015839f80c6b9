import Foundation
import PostgresClient
import YAMLParser
import Primitives

/// `type: data_growth`: the five tables' row counts, compared with the previous monitor cycle (seed §4.1).
public struct DataGrowthCheck: CheckType {
    public var mustGrow: [String]
    public var window: Duration

    public static let typeName = "data_growth"
    public static let keys = ["must_grow", "window"]

    public static func decode(from reader: CheckReader) -> DataGrowthCheck? {
        DataGrowthCheck(mustGrow: reader.strings("must_grow") ?? ["signals"],
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
        guard let previous, let cycle = command.previousCycle else { return .pass(summary + "; first cycle, nothing to compare", figures: counts) }
        let elapsed = now.timeIntervalSince(cycle.startedAt)
        let stalled = mustGrow.filter { (counts["rows.\($0)"] ?? 0) <= (previous.figures["rows.\($0)"] ?? 0) }
        if !stalled.isEmpty, elapsed >= window.seconds {
            return .fail("no new rows in \(stalled.joined(separator: ", ")) for \(Int(elapsed / 60)) min (alarm after \(window.secondsText)): \(summary)", figures: counts)
        }
        return .pass(summary + " since \(Int(elapsed / 60)) min ago", figures: counts)
    }

    fileprivate static func signed(_ value: Double) -> String { value >= 0 ? "+\(Int(value))" : "\(Int(value))" }
}
