import Foundation
import YAMLParser

/// The incident playbooks of seed §5, by the names `cdbctl incident <kind>` takes.
public enum IncidentKind: String, Sendable, Codable, CaseIterable {
    case containerCrash = "container-crash"
    case riskLimit = "risk-limit"
    case serviceUnresponsive = "service-unresponsive"
    case databaseOutage = "database-outage"
    case resourceShortage = "resource-shortage"
    case dataStop = "data-stop"
    /// Seed §5.4 "Wenn Daten korrupt" / "Letzter Ausweg": the newest backup restored (destructive, `--yes`).
    case databaseRestore = "database-restore"

    public static var allNames: [String] { allCases.map(\.rawValue) }
}

/// One rule of the `env` check: a variable, whether it must be set, and what its value must look like.
public struct EnvRule: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case string, integer, decimal, port, host }
    public var name: String
    public var required: Bool
    public var kind: Kind
    public var minimum: Double?
    public var maximum: Double?
    public var minLength: Int?
    public var expected: String?
}

/// What a step checks or does; each case names its own settings.
public enum CheckSpec: Sendable {
    case env(rules: [EnvRule])
    case host(memoryMinimum: Int64?, diskMinimum: Int64?, diskPath: String)
    case containers(ContainerCheck)
    case http(HTTPCheck)
    case redis(RedisCheck)
    case sql(SQLCheck)
    case prometheus(url: String?, targetsUp: Bool, rules: [String], noFiring: [String])
    case grafana(url: String?, dashboard: String)
    /// A command run in the project directory; with `minimumPassed` > 0 its output must show that many passing tests.
    case command(arguments: [String], minimumPassed: Int)
    /// `pg_dump` into `directory`, listed and optionally restored; with `acceptRecent`, a stack that is already
    /// down passes when a backup younger than that exists (a re-run of a stop).
    /// With `every`, a backup younger than that is kept and no new one taken (the monitor's daily backup).
    case backup(directory: String, restoreCheck: Bool, acceptRecent: Duration?, every: Duration?)
    /// The newest backup of `directory` restored over the database (`pg_restore --clean`, one transaction), its
    /// row counts verified; then `replayGroup` is set back to the backup's time so the writer stores again
    /// what came later (idempotent by event id). Destructive.
    case restore(directory: String, replayGroup: String?)
    /// Containers and their named volumes removed (seed §5.4's last resort); compose creates them anew. Destructive.
    case removeVolumes(services: [String])
    case logs(services: [String], window: Duration, patterns: [String])
    case dataGrowth(mustGrow: [String], window: Duration)
    /// Every event still on the persisted `streams` (older than `settle`) has its row, and no signal led to two
    /// orders nor an order to two trades. With `caughtUp`, events still waiting for the writer fail it too.
    case persistence(streams: [String], settle: Duration, group: String, caughtUp: Bool)
    /// Stop, start, restart, pause or unpause containers through the Engine API (idempotent).
    case containerAction(action: DockerEngine.Action, services: [String])
    /// Waits until no position is open; past `wait`, closes the rest in paper mode when `close` is set.
    case openPositions(wait: Duration, poll: Duration, close: Bool)
    /// Every container's log (or its last `tail` lines) into `directory`.
    case archiveLogs(directory: String, tail: Int?)
    /// The emergency-stop incident report of seed §7.2.
    case incidentReport(directory: String)
    /// An incident's evidence into its folder: the services' last log lines, container stats, `/status`, SQL results.
    case evidence(services: [String], logLines: Int, stats: Bool, status: [String], sql: [String: String])
    /// Fails (and so escalates to the emergency stop) when the same incident hit the same service within `window`.
    case escalation(window: Duration)
    /// Steps of an earlier phase's last record that must have passed, no longer ago than `maxAge`.
    case record(phase: PhaseName, steps: [String], maxAge: Duration)
    case wait(Duration)

    /// The check's `type:` name, as written in runbook.yaml.
    public var typeName: String {
        switch self {
        case .env: return "env"
        case .host: return "host"
        case .containers: return "containers"
        case .http: return "http"
        case .redis: return "redis"
        case .sql: return "sql"
        case .prometheus: return "prometheus"
        case .grafana: return "grafana"
        case .command: return "command"
        case .backup: return "backup"
        case .restore: return "restore"
        case .removeVolumes: return "remove_volumes"
        case .logs: return "logs"
        case .dataGrowth: return "data_growth"
        case .persistence: return "persistence"
        case .record: return "record"
        case .containerAction: return "container_action"
        case .openPositions: return "open_positions"
        case .archiveLogs: return "archive_logs"
        case .incidentReport: return "incident_report"
        case .evidence: return "evidence"
        case .escalation: return "escalation"
        case .wait: return "wait"
        }
    }

    public static let typeNames = ["env", "host", "containers", "http", "redis", "sql", "prometheus", "grafana",
                                   "command", "backup", "restore", "remove_volumes", "logs", "data_growth", "persistence", "record", "container_action", "open_positions",
                                   "archive_logs", "incident_report", "evidence", "escalation", "wait"]
}

public struct ContainerCheck: Sendable {
    /// Compose service names; all nine when empty.
    public var services: [String]
    /// Services that may be absent (Grafana without a registry): reported "not deployed", never passed.
    public var optional: [String]
    public var requireHealthy: Bool
    /// False for checks of one aspect (memory) that leave a stopped container to the crash check.
    public var requireRunning: Bool
    public var maxRestarts: Int?
    public var memoryMaxPercent: Double?
}

public struct HTTPCheck: Sendable {
    /// Either service names (their published base URL) or one literal URL.
    public var services: [String]
    public var url: String?
    public var path: String
    public var status: Int
    public var conditions: [Condition]
    public var maxLatency: Duration?
}

public enum RedisCheck: Sendable {
    case ping
    /// Every consumer group of `streams` has at most `maxLag` entries waiting and nothing stuck pending.
    case lag(streams: [String], maxLag: Int)
    /// A tagged probe tick, followed hop by hop: stored, mirrored on pub/sub, delivered to and acknowledged by every group.
    case eventFlow(stream: String)
    /// New entries keep arriving on `stream` (its last id moves within `within`).
    case streamAdvances(stream: String, within: Duration)
}

public struct SQLCheck: Sendable {
    public var query: String
    /// Conditions on the first row (`count >= 5`).
    public var conditions: [Condition]
    public var minimumRows: Int?
    /// Values that must appear in the first column (the runbook's five tables).
    public var includes: [String]
}

extension CheckSpec {
    /// The check with `$SERVICE` in its service lists replaced: one playbook serves whichever service is hit.
    public func replacingService(with service: String) -> CheckSpec {
        func swap(_ list: [String]) -> [String] { list.map { $0 == "$SERVICE" ? service : $0 } }
        switch self {
        case .containers(var check):
            check.services = swap(check.services)
            return .containers(check)
        case .http(var check):
            check.services = swap(check.services)
            return .http(check)
        case .logs(let services, let window, let patterns): return .logs(services: swap(services), window: window, patterns: patterns)
        case .containerAction(let action, let services): return .containerAction(action: action, services: swap(services))
        case .evidence(let services, let lines, let stats, let status, let sql):
            return .evidence(services: swap(services), logLines: lines, stats: stats, status: swap(status), sql: sql)
        default: return self
        }
    }
}

/// The `stack` services in the runbook's order.
public let stackServices = ["cdb_redis", "cdb_postgres", "cdb_db_writer", "cdb_ws", "cdb_core", "cdb_risk",
                            "cdb_execution", "cdb_prometheus", "cdb_grafana"]

/// Decodes a step's `check:` mapping by its `type:`.
struct CheckSpecDecoder {
    let context: YAMLDecodingContext
    let baseDirectory: String

    func decode(_ node: YAMLNode, step: String) -> CheckSpec? {
        let what = "\(step).check"
        guard case .mapping = node.kind else {
            context.error("\(what): expected a mapping with a type, got \(node.kindName)", at: node.mark)
            return nil
        }
        guard let typeNode = node["type"] else {
            context.error("\(what): missing required key 'type' (one of \(CheckSpec.typeNames.joined(separator: ", ")))", at: node.mark)
            return nil
        }
        guard let type = context.scalar(typeNode, as: String.self, what: "\(what).type") else { return nil }
        guard let keys = Self.keys[type] else {
            var message = "unknown check type '\(type)'"
            if let suggestion = closestMatch(to: type, among: CheckSpec.typeNames) { message += " (did you mean '\(suggestion)'?)" }
            context.error(message, at: typeNode.mark)
            return nil
        }
        guard let reader = context.mapping(node, what: "\(what) (\(type))", allowedKeys: ["type"] + keys) else { return nil }
        switch type {
        case "env":
            return envRules(reader, what: what).map { .env(rules: $0) }
        case "host":
            return .host(memoryMinimum: bytes(reader, "memory_min"), diskMinimum: bytes(reader, "disk_min"),
                         diskPath: reader.optional("disk_path", as: String.self) ?? ".")
        case "containers":
            return .containers(ContainerCheck(
                services: strings(reader, "services", what: what) ?? [], optional: strings(reader, "optional", what: what) ?? [],
                requireHealthy: reader.optional("healthy", as: Bool.self) ?? true,
                requireRunning: reader.optional("running", as: Bool.self) ?? true,
                maxRestarts: reader.optional("max_restarts", as: Int.self),
                memoryMaxPercent: reader.optional("memory_max_pct", as: Double.self)))
        case "http":
            let services = strings(reader, "services", what: what) ?? []
            let url = reader.optional("url", as: String.self)
            if services.isEmpty == (url == nil) {
                context.error("\(what): give either services or url", at: node.mark)
            }
            return .http(HTTPCheck(services: services, url: url, path: reader.optional("path", as: String.self) ?? "/health",
                                   status: reader.optional("status", as: Int.self) ?? 200,
                                   conditions: conditions(reader, what: what), maxLatency: reader.optional("max_latency", as: Duration.self)))
        case "redis":
            return redis(reader, what: what)
        case "sql":
            return sql(reader, what: what)
        case "prometheus":
            return .prometheus(url: reader.optional("url", as: String.self), targetsUp: reader.optional("targets_up", as: Bool.self) ?? true,
                               rules: strings(reader, "rules", what: what) ?? [], noFiring: strings(reader, "no_firing", what: what) ?? [])
        case "grafana":
            return .grafana(url: reader.optional("url", as: String.self), dashboard: reader.required("dashboard", as: String.self) ?? "")
        case "command":
            guard let arguments = strings(reader, "run", what: what, required: true), !arguments.isEmpty else { return nil }
            return .command(arguments: arguments, minimumPassed: reader.optional("min_passed", as: Int.self) ?? 0)
        case "backup":
            return .backup(directory: reader.optional("directory", as: String.self) ?? "backups",
                           restoreCheck: reader.optional("restore_check", as: Bool.self) ?? true,
                           acceptRecent: reader.optional("accept_recent", as: Duration.self),
                           every: reader.optional("every", as: Duration.self))
        case "restore":
            return .restore(directory: reader.optional("directory", as: String.self) ?? "backups",
                            replayGroup: reader.optional("replay_group", as: String.self))
        case "remove_volumes":
            guard let services = strings(reader, "services", what: what, required: true) else { return nil }
            return .removeVolumes(services: services)
        case "logs":
            return .logs(services: strings(reader, "services", what: what) ?? [],
                         window: reader.optional("since", as: Duration.self) ?? .seconds(600),
                         patterns: strings(reader, "patterns", what: what) ?? ["ERROR", "CRITICAL"])
        case "data_growth":
            return .dataGrowth(mustGrow: strings(reader, "must_grow", what: what) ?? ["signals"],
                               window: reader.optional("window", as: Duration.self) ?? .seconds(3600))
        case "persistence":
            let streams = strings(reader, "streams", what: what) ?? PersistedStreams.tables
            for stream in streams where !PersistedStreams.tables.contains(stream) {
                context.error("\(what).streams: '\(stream)' is not a persisted stream (one of \(PersistedStreams.tables.joined(separator: ", ")))", at: reader["streams"]!.mark)
            }
            return .persistence(streams: streams, settle: reader.optional("settle", as: Duration.self) ?? .seconds(10),
                                group: reader.optional("group", as: String.self) ?? "cdb_db_writer",
                                caughtUp: reader.optional("caught_up", as: Bool.self) ?? false)
        case "record":
            guard let phaseText = reader.required("phase", as: String.self) else { return nil }
            guard let phase = PhaseName(rawValue: phaseText) else {
                context.error("\(what).phase: unknown phase '\(phaseText)' (one of \(PhaseName.allCases.map(\.rawValue).joined(separator: ", ")))", at: reader["phase"]!.mark)
                return nil
            }
            return .record(phase: phase, steps: strings(reader, "steps", what: what, required: true) ?? [],
                           maxAge: reader.optional("max_age", as: Duration.self) ?? .seconds(24 * 3600))
        case "container_action":
            guard let text = reader.required("action", as: String.self) else { return nil }
            guard let action = DockerEngine.Action(rawValue: text) else {
                var message = "\(what).action: unknown action '\(text)'"
                if let suggestion = closestMatch(to: text, among: DockerEngine.Action.allCases.map(\.rawValue)) { message += " (did you mean '\(suggestion)'?)" }
                context.error(message, at: reader["action"]!.mark)
                return nil
            }
            guard let services = strings(reader, "services", what: what, required: true) else { return nil }
            return .containerAction(action: action, services: services)
        case "open_positions":
            return .openPositions(wait: reader.optional("wait", as: Duration.self) ?? .seconds(3600),
                                  poll: reader.optional("poll", as: Duration.self) ?? .seconds(60),
                                  close: reader.optional("close", as: Bool.self) ?? true)
        case "archive_logs":
            return .archiveLogs(directory: reader.optional("directory", as: String.self) ?? "logs", tail: reader.optional("tail", as: Int.self))
        case "incident_report":
            return .incidentReport(directory: reader.optional("directory", as: String.self) ?? "incidents")
        case "evidence":
            var queries: [String: String] = [:]
            if let node = reader["sql"], let items = context.sequence(node, what: "\(what).sql") {
                for item in items {
                    guard let relative = context.scalar(item, as: String.self, what: "\(what).sql") else { continue }
                    let path = relative.hasPrefix("/") ? relative : baseDirectory + "/" + relative
                    if let text = try? String(contentsOfFile: path, encoding: .utf8) { queries[URL(fileURLWithPath: relative).lastPathComponent] = text }
                    else { context.error("\(what).sql: cannot read '\(relative)' (looked at \(path))", at: item.mark) }
                }
            }
            return .evidence(services: strings(reader, "services", what: what) ?? [], logLines: reader.optional("logs", as: Int.self) ?? 200,
                             stats: reader.optional("stats", as: Bool.self) ?? true, status: strings(reader, "status", what: what) ?? [], sql: queries)
        case "escalation":
            return .escalation(window: reader.optional("window", as: Duration.self) ?? .seconds(3600))
        case "wait":
            return reader.required("duration", as: Duration.self).map { .wait($0) }
        default:
            return nil
        }
    }

    /// The keys each check type accepts besides `type`.
    static let keys: [String: [String]] = [
        "env": ["rules", "rules_file"],
        "host": ["memory_min", "disk_min", "disk_path"],
        "containers": ["services", "optional", "healthy", "running", "max_restarts", "memory_max_pct"],
        "http": ["services", "url", "path", "status", "expect", "max_latency"],
        "redis": ["op", "stream", "streams", "max_lag", "within"],
        "sql": ["query", "file", "expect", "min_rows", "includes"],
        "prometheus": ["url", "targets_up", "rules", "no_firing"],
        "grafana": ["url", "dashboard"],
        "command": ["run", "min_passed"],
        "backup": ["directory", "restore_check", "accept_recent", "every"],
        "restore": ["directory", "replay_group"],
        "remove_volumes": ["services"],
        "logs": ["services", "since", "patterns"],
        "data_growth": ["must_grow", "window"],
        "persistence": ["streams", "settle", "group", "caught_up"],
        "record": ["phase", "steps", "max_age"],
        "container_action": ["action", "services"],
        "open_positions": ["wait", "poll", "close"],
        "archive_logs": ["directory", "tail"],
        "incident_report": ["directory"],
        "evidence": ["services", "logs", "stats", "status", "sql"],
        "escalation": ["window"],
        "wait": ["duration"],
    ]

    private func strings(_ reader: YAMLMappingReader, _ key: String, what: String, required: Bool = false) -> [String]? {
        guard let node = reader[key] else {
            if required { context.error("\(what): missing required key '\(key)'", at: reader.node.mark) }
            return nil
        }
        guard let items = context.sequence(node, what: "\(what).\(key)") else { return nil }
        return items.compactMap { context.scalar($0, as: String.self, what: "\(what).\(key)") }
    }

    private func conditions(_ reader: YAMLMappingReader, what: String) -> [Condition] {
        guard let node = reader["expect"], let items = context.sequence(node, what: "\(what).expect") else { return [] }
        return items.compactMap { item -> Condition? in
            guard let text = context.scalar(item, as: String.self, what: "\(what).expect") else { return nil }
            do {
                return try Condition(parsing: text)
            } catch {
                context.error("\(what).expect: \(error)", at: item.mark)
                return nil
            }
        }
    }

    /// Sizes like `4GiB`, `10GB`, `512MiB`.
    private func bytes(_ reader: YAMLMappingReader, _ key: String) -> Int64? {
        guard let node = reader[key], let text = context.scalar(node, as: String.self, what: key) else { return nil }
        let units: [(String, Double)] = [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("GB", 1e9), ("MB", 1e6), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let number = Double(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), number >= 0 {
                return Int64(number * factor)
            }
        }
        context.error("\(key): expected a size like 4GiB, 10GB or 512MiB, got '\(text)'", at: node.mark)
        return nil
    }

    /// A file under the project directory that must exist; its text, or nil with a located error.
    private func referencedFile(_ reader: YAMLMappingReader, _ key: String, what: String) -> String? {
        guard let node = reader[key], let relative = context.scalar(node, as: String.self, what: "\(what).\(key)") else { return nil }
        let path = relative.hasPrefix("/") ? relative : baseDirectory + "/" + relative
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            context.error("\(what).\(key): cannot read '\(relative)' (looked at \(path))", at: node.mark)
            return nil
        }
        return text
    }

    private func redis(_ reader: YAMLMappingReader, what: String) -> CheckSpec? {
        let operations = ["ping", "lag", "event_flow", "stream_advances"]
        guard let op = reader.required("op", as: String.self) else { return nil }
        switch op {
        case "ping":
            return .redis(.ping)
        case "lag":
            return .redis(.lag(streams: strings(reader, "streams", what: what) ?? [], maxLag: reader.optional("max_lag", as: Int.self) ?? 1000))
        case "event_flow":
            return .redis(.eventFlow(stream: reader.optional("stream", as: String.self) ?? "market_data"))
        case "stream_advances":
            return .redis(.streamAdvances(stream: reader.optional("stream", as: String.self) ?? "market_data",
                                          within: reader.optional("within", as: Duration.self) ?? .seconds(30)))
        default:
            var message = "\(what).op: unknown redis check '\(op)'"
            if let suggestion = closestMatch(to: op, among: operations) { message += " (did you mean '\(suggestion)'?)" }
            context.error(message, at: reader["op"]!.mark)
            return nil
        }
    }

    private func sql(_ reader: YAMLMappingReader, what: String) -> CheckSpec? {
        let inline = reader.optional("query", as: String.self)
        let fromFile = referencedFile(reader, "file", what: what)
        if (inline == nil) == (reader["file"] == nil) {
            context.error("\(what): give either query or file", at: reader.node.mark)
            return nil
        }
        guard let query = inline ?? fromFile else { return nil }
        return .sql(SQLCheck(query: query, conditions: conditions(reader, what: what),
                             minimumRows: reader.optional("min_rows", as: Int.self), includes: strings(reader, "includes", what: what) ?? []))
    }

    private func envRules(_ reader: YAMLMappingReader, what: String) -> [EnvRule]? {
        var nodes: [YAMLNode] = []
        if let inline = reader["rules"], let items = context.sequence(inline, what: "\(what).rules") { nodes += items }
        if let text = referencedFile(reader, "rules_file", what: what) {
            // The rules file is its own YAML document; its errors carry its own name and positions.
            let file = reader["rules_file"]?.scalar ?? "rules"
            do {
                let root = try YAMLDocumentParser.parse(text, file: file)
                let fileContext = YAMLDecodingContext(file: file)
                if let top = fileContext.mapping(root, what: file, allowedKeys: ["rules"]), let list = top.requiredNode("rules"),
                   let items = fileContext.sequence(list, what: "rules") {
                    let rules = items.compactMap { EnvRuleDecoder(context: fileContext).decode($0) }
                    fileContext.diagnostics.forEach { context.error("\($0.file):\($0.mark): \($0.message)", at: reader["rules_file"]!.mark) }
                    return rules + nodes.compactMap { EnvRuleDecoder(context: context).decode($0) }
                }
                fileContext.diagnostics.forEach { context.error("\($0.file):\($0.mark): \($0.message)", at: reader["rules_file"]!.mark) }
            } catch {
                context.error("\(error)", at: reader["rules_file"]!.mark)
            }
            return nil
        }
        if nodes.isEmpty && reader["rules_file"] == nil {
            context.error("\(what): give rules or rules_file", at: reader.node.mark)
        }
        return nodes.compactMap { EnvRuleDecoder(context: context).decode($0) }
    }
}

struct EnvRuleDecoder {
    let context: YAMLDecodingContext

    func decode(_ node: YAMLNode) -> EnvRule? {
        let label = "rule '\(node["name"]?.scalar ?? "?")'"
        guard let reader = context.mapping(node, what: label, allowedKeys: ["name", "required", "type", "min", "max", "min_length", "equals"]) else { return nil }
        guard let name = reader.required("name", as: String.self) else { return nil }
        let typeText = reader.optional("type", as: String.self) ?? "string"
        guard let kind = EnvRule.Kind(rawValue: typeText) else {
            var message = "\(label).type: unknown type '\(typeText)'"
            if let suggestion = closestMatch(to: typeText, among: EnvRule.Kind.allCases.map(\.rawValue)) { message += " (did you mean '\(suggestion)'?)" }
            context.error(message, at: reader["type"]!.mark)
            return nil
        }
        return EnvRule(name: name, required: reader.optional("required", as: Bool.self) ?? true, kind: kind,
                       minimum: reader.optional("min", as: Double.self), maximum: reader.optional("max", as: Double.self),
                       minLength: reader.optional("min_length", as: Int.self), expected: reader.optional("equals", as: String.self))
    }
}
