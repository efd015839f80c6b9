import Foundation
import HTTPClient
import PostgresClient
import StackContract
import YAMLParser

/// `type: sql`: a query (inline or from a file) whose first row meets the conditions.
public struct SQLCheck: CheckType {
    public var query: String
    /// Conditions on the first row (`count >= 5`).
    public var conditions: [Condition]
    public var minimumRows: Int?
    /// Values that must appear in the first column (the runbook's five tables).
    public var includes: [String]

    public static let typeName = "sql"
    public static let keys = ["query", "file", "expect", "min_rows", "includes"]

    public static func decode(from reader: CheckReader) -> SQLCheck? {
        let inline = reader.optional("query", as: String.self)
        let fromFile = reader.file("file")
        if (inline == nil) == (reader["file"] == nil) {
            reader.error("\(reader.what): give either query or file", at: reader.node.mark)
            return nil
        }
        guard let query = inline ?? fromFile else { return nil }
        return SQLCheck(query: query, conditions: reader.conditions(),
                        minimumRows: reader.optional("min_rows", as: Int.self), includes: reader.strings("includes") ?? [])
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.sql(self)
    }
}

extension CheckContext {
    fileprivate func sql(_ check: SQLCheck) async throws -> CheckOutcome {
        let db = try await PostgresConnection(stack.postgres)
        defer { Task { await db.close() } }
        let rows = try await db.query(check.query)
        var problems: [String] = []
        if let minimum = check.minimumRows, rows.count < minimum { problems.append("\(rows.count) rows, expected at least \(minimum)") }
        if !check.includes.isEmpty {
            let column = rows.columns.first ?? ""
            let values = Set(rows.map { $0[column] ?? "" })
            let missing = check.includes.filter { !values.contains($0) }
            if !missing.isEmpty { problems.append("missing: \(missing.joined(separator: ", "))") }
        }
        var found: [String] = []
        if !check.conditions.isEmpty {
            guard let first = rows.first else { return .fail("the query returned no row to check \(check.conditions.map(\.text).joined(separator: ", ")) against") }
            let document = JSONValue.object(Dictionary(uniqueKeysWithValues: rows.columns.map { ($0, first[$0].map(JSONValue.string) ?? .null) }))
            for condition in check.conditions {
                let (holds, text) = condition.evaluate(document)
                found.append(text)
                if !holds { problems.append("\(condition) does not hold: \(text)") }
            }
        }
        var figures: [String: Double] = [:]
        if let first = rows.first {
            for column in rows.columns { if let value = first[column].flatMap(Double.init) { figures[column] = value } }
        }
        let summary = found.isEmpty
            ? (check.includes.isEmpty ? "\(rows.count) rows" : "\(check.includes.joined(separator: ", ")) present (\(rows.count) rows)")
            : found.joined(separator: ", ")
        return problems.isEmpty ? .pass(summary, figures: figures) : .fail(problems.joined(separator: "; "), figures: figures)
    }
}
