import Foundation
import YAMLParser

/// The stack's configuration files, read from the repository's `services/` directory.
enum StackFiles {
    static let services = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("services")

    static func text(_ path: String) throws -> String {
        let url = services.appendingPathComponent(path)
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw StackFileError("\(url.path): unreadable (\(error))")
        }
    }

    static func yaml(_ path: String) throws -> YAMLNode {
        try YAMLDocumentParser.parse(try text(path), file: services.appendingPathComponent(path).path)
    }

    /// The Grafana dashboard as JSON objects.
    static func dashboard() throws -> Dashboard {
        let path = "grafana/dashboards/claire-paper-trading.json"
        do {
            return try JSONDecoder().decode(Dashboard.self, from: Data(try text(path).utf8))
        } catch let error as StackFileError {
            throw error
        } catch {
            throw StackFileError("services/\(path): \(error)")
        }
    }

    /// Every `cdb_…` metric name an expression mentions.
    static func metricNames(in expression: String) -> Set<String> {
        Set(expression.matches(of: /\bcdb_[a-z0-9_]+/).map { String($0.output) })
    }
}

/// What the tests read of the dashboard JSON.
struct Dashboard: Decodable {
    struct DataSource: Decodable {
        var type: String
        var uid: String
    }
    struct Target: Decodable {
        var refId: String
        var datasource: DataSource
        var expr: String?
        var rawSql: String?
    }
    struct Panel: Decodable {
        var id: Int
        var title: String
        var type: String
        var datasource: DataSource
        var targets: [Target]
    }
    var uid: String
    var title: String
    var panels: [Panel]
}

struct StackFileError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
