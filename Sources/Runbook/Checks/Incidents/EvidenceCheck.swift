import DockerClient
import Foundation
import HTTPClient
import PostgresClient
import YAMLParser

/// `type: evidence`: an incident's evidence into its folder: the services' last log lines, container stats,
/// `/status`, SQL results.
public struct EvidenceCheck: CheckType {
    public var services: [String]
    public var logLines: Int
    public var stats: Bool
    public var status: [String]
    /// Query text by the file name it was read from.
    public var sql: [String: String]

    public static let typeName = "evidence"
    public static let keys = ["services", "logs", "stats", "status", "sql"]

    public static func decode(from reader: CheckReader) -> EvidenceCheck? {
        let context = reader.context
        var queries: [String: String] = [:]
        if let node = reader["sql"], let items = context.sequence(node, what: "\(reader.what).sql") {
            for item in items {
                guard let relative = context.scalar(item, as: String.self, what: "\(reader.what).sql") else { continue }
                let path = relative.hasPrefix("/") ? relative : reader.baseDirectory + "/" + relative
                if let text = try? String(contentsOfFile: path, encoding: .utf8) { queries[URL(fileURLWithPath: relative).lastPathComponent] = text }
                else { context.error("\(reader.what).sql: cannot read '\(relative)' (looked at \(path))", at: item.mark) }
            }
        }
        return EvidenceCheck(services: reader.strings("services") ?? [], logLines: reader.optional("logs", as: Int.self) ?? 200,
                             stats: reader.optional("stats", as: Bool.self) ?? true, status: reader.strings("status") ?? [], sql: queries)
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.evidence(services: services, logLines: logLines, stats: stats, status: status, sql: sql)
    }

    public func replacingService(with service: String) -> EvidenceCheck {
        EvidenceCheck(services: services.replacingService(with: service), logLines: logLines, stats: stats,
                      status: status.replacingService(with: service), sql: sql)
    }
}

extension CheckContext {
    fileprivate func evidence(services: [String], logLines: Int, stats: Bool, status: [String], sql: [String: String]) async throws -> CheckOutcome {
        guard let incident = command.incident else { return .fail("evidence is gathered by a playbook (cdbctl incident <kind>)") }
        let folder = try privateOutputFolder(incident.directory)
        var saved: [String] = []
        var problems: [String] = []
        func save(_ name: String, _ text: String) throws {
            // Container logs and /status carry what the services were configured with: masked like every record.
            try writeOperatorText(text, to: "\(folder)/\(name)")
            saved.append(name)
        }
        do {
            let engine = try DockerEngine(environment: environment, project: runbook.project)
            let containers = try await engine.containers()
            try save("containers.txt", containers.map { "\($0.service) \($0.state) health=\($0.health ?? "-") restarts=\($0.restartCount) exit=\($0.exitCode) started=\($0.startedAt)" }.joined(separator: "\n") + "\n")
            for service in services {
                guard let container = containers.first(where: { $0.service == service || $0.name == service }) else { problems.append("\(service): no container"); continue }
                try save("\(service).log", (try await engine.logs(of: container, tail: logLines)).joined(separator: "\n") + "\n")
            }
            if stats {
                var lines: [String] = []
                for container in containers where container.state == "running" {
                    let memory = try await engine.memory(of: container)
                    lines.append(String(format: "%@ memory %.1f MiB of %.1f MiB (%.0f%%)", container.service, memory.used / 1_048_576, memory.limit / 1_048_576,
                                        memory.limit > 0 ? memory.used / memory.limit * 100 : 0))
                }
                try save("stats.txt", lines.joined(separator: "\n") + "\n")
            }
        } catch {
            problems.append("\(error)")
        }
        for service in status {
            guard let base = baseURL(of: service) else { problems.append("\(service): no status endpoint"); continue }
            do {
                let response = try await HTTPClient().get(base + "/status", timeout: .seconds(5))
                try save("\(service)-status.json", response.text)
            } catch {
                problems.append("\(service) /status: \(error)")
            }
        }
        if !sql.isEmpty {
            do {
                let db = try await PostgresConnection(stack.postgres)
                for (name, query) in sql.sorted(by: { $0.key < $1.key }) {
                    let rows = try await db.query(query)
                    let lines = [rows.columns.joined(separator: "\t")] + rows.map { row in rows.columns.map { row[$0] ?? "NULL" }.joined(separator: "\t") }
                    try save(name.replacingOccurrences(of: ".sql", with: ".tsv"), lines.joined(separator: "\n") + "\n")
                }
                await db.close()
            } catch {
                problems.append("SQL: \(error)")
            }
        }
        // Evidence is best effort: what could not be read is named, and the playbook goes on to act.
        let detail = "saved \(saved.joined(separator: ", ")) in \(folder)" + (problems.isEmpty ? "" : "; not available: " + problems.joined(separator: "; "))
        return saved.isEmpty ? .fail(detail) : .pass(detail)
    }
}
