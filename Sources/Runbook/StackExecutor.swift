import ChildProcesses
import EventBus
import Foundation
import HTTPClient
import PostgresClient
import Primitives
import RedisClient
import StackContract
import TradingCore

/// Runs the runbook's checks against the real stack: the environment, the host, the Docker engine,
/// the services' endpoints, Redis, PostgreSQL, Prometheus, Grafana, the project's tests and backups.
public struct StackExecutor: StepExecutor {
    public var environment: [String: String]
    public var stack: StackSettings
    public var runbook: RunbookSettings
    public var projectDirectory: String
    public var reportsDirectory: String
    /// The previous monitor cycle, for data growth.
    public var previousCycle: PhaseRecord?
    /// Why an emergency stop was called, and the containers as they were before it began (for its report).
    public var stopReason: String?
    public var containersBeforeStop: [ContainerState] = []
    /// Set while a playbook runs.
    public var incident: IncidentContext?
    /// `--yes`: destructive steps may run (given a fresh backup).
    public var confirmedDestructive = false

    public init(environment: [String: String], stack: StackSettings, runbook: RunbookSettings, projectDirectory: String,
                reportsDirectory: String, previousCycle: PhaseRecord?) {
        self.environment = environment
        self.stack = stack
        self.runbook = runbook
        self.projectDirectory = projectDirectory
        self.reportsDirectory = reportsDirectory
        self.previousCycle = previousCycle
    }

    public func execute(_ step: RunbookStep) async -> CheckOutcome {
        if let refusal = destructiveRefusal(step) { return .fail(refusal) }
        do {
            switch step.check {
            case .env(let rules): return EnvRuleCheck.evaluate(rules, environment: environment)
            case .host(let memory, let disk, let path): return await host(memoryMinimum: memory, diskMinimum: disk, path: path)
            case .containers(let check): return try await containers(check)
            case .http(let check): return await http(check)
            case .redis(let check): return try await redis(check, timeout: step.timeout)
            case .sql(let check): return try await sql(check)
            case .prometheus(let url, let targetsUp, let rules, let noFiring):
                return try await prometheus(url: url, targetsUp: targetsUp, rules: rules, noFiring: noFiring)
            case .grafana(let url, let dashboard): return try await grafana(url: url, dashboard: dashboard)
            case .command(let arguments, let minimumPassed): return try await command(arguments, minimumPassed: minimumPassed, timeout: step.timeout)
            case .backup(let directory, let restoreCheck, let acceptRecent, let every):
                if let every, let kept = Self.newestBackup(in: outputFolder(directory)), kept.age <= Double(every.components.seconds) {
                    return .pass("\(kept.path) is \(Int(kept.age / 3600)) h \(Int(kept.age / 60) % 60) min old (a new one every \(every.secondsText))")
                }
                return try await backup(directory: directory, restoreCheck: restoreCheck, acceptRecent: acceptRecent, timeout: step.timeout)
            case .restore(let directory, let replayGroup):
                return try await restore(directory: directory, replayGroup: replayGroup, timeout: step.timeout)
            case .removeVolumes(let services):
                return try await removeVolumes(services: services)
            case .logs(let services, let window, let patterns): return try await logs(services: services, window: window, patterns: patterns)
            case .dataGrowth(let mustGrow, let window): return try await dataGrowth(mustGrow: mustGrow, window: window)
            case .persistence(let streams, let settle, let group, let caughtUp):
                return try await persistence(streams: streams, settle: settle, group: group, caughtUp: caughtUp)
            case .record(let phase, let steps, let maxAge): return recorded(phase: phase, steps: steps, maxAge: maxAge)
            case .containerAction(let action, let services): return try await containerAction(action, services: services)
            case .openPositions(let wait, let poll, let close): return try await openPositions(wait: wait, poll: poll, close: close)
            case .archiveLogs(let directory, let tail): return try await archiveLogs(directory: directory, tail: tail)
            case .incidentReport(let directory): return try await incidentReport(directory: directory)
            case .evidence(let services, let lines, let stats, let status, let sql):
                return try await evidence(services: services, logLines: lines, stats: stats, status: status, sql: sql)
            case .escalation(let window): return escalation(window: window)
            case .wait(let duration):
                try await Task.sleep(for: duration)
                return .pass("waited \(duration.secondsText)")
            }
        } catch {
            return .fail("\(error)")
        }
    }

    // MARK: host and containers

    func host(memoryMinimum: Int64?, diskMinimum: Int64?, path: String) async -> CheckOutcome {
        var problems: [String] = []
        var found: [String] = []
        var figures: [String: Double] = [:]
        if let memoryMinimum {
            // On Linux containers share the host's memory; Docker Desktop/WSL give the engine a VM of its own size.
            var available = Self.memoryAvailable() ?? 0
            if let engine = try? DockerEngine(environment: environment, project: runbook.project),
               let info = try? await engine.info(), info.memoryTotal > 0 {
                available = min(available == 0 ? info.memoryTotal : available, info.memoryTotal)
            }
            figures["memory_available_bytes"] = available
            let text = "memory available \(Self.gib(available)) (need \(Self.gib(Double(memoryMinimum))))"
            if available < Double(memoryMinimum) { problems.append(text) } else { found.append(text) }
        }
        if let diskMinimum {
            let directory = path.hasPrefix("/") ? path : projectDirectory + "/" + path
            var stats = statvfs()
            guard statvfs(directory, &stats) == 0 else {
                return .fail("cannot read free disk space of \(directory): \(String(cString: strerror(errno)))")
            }
            let free = Double(stats.f_bavail) * Double(stats.f_frsize)
            figures["disk_free_bytes"] = free
            let text = "disk free at \(directory) \(Self.gib(free)) (need \(Self.gib(Double(diskMinimum))))"
            if free < Double(diskMinimum) { problems.append(text) } else { found.append(text) }
        }
        return problems.isEmpty ? .pass(found.joined(separator: "; "), figures: figures)
            : .fail("too little: " + problems.joined(separator: "; "), figures: figures)
    }

    static func memoryAvailable() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kib = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return nil }
        return kib * 1024
    }

    static func gib(_ bytes: Double) -> String { String(format: "%.1f GiB", bytes / 1_073_741_824) }

    func containers(_ check: ContainerCheck) async throws -> CheckOutcome {
        let engine = try DockerEngine(environment: environment, project: runbook.project)
        let all = try await engine.containers()
        let wanted = check.services.isEmpty ? stackServices : check.services
        var problems: [String] = []
        var notDeployed: [String] = []
        var healthy = 0
        var figures: [String: Double] = [:]
        for service in wanted {
            guard let container = all.first(where: { $0.service == service || $0.name == service }) else {
                if check.optional.contains(service) { notDeployed.append(service) } else { problems.append("\(service): no container in project '\(runbook.project)'") }
                continue
            }
            figures["restarts.\(service)"] = Double(container.restartCount)
            var issues: [String] = []
            if container.state != "running" {
                guard check.requireRunning else { continue }
                issues.append("is \(container.state)" + (container.state == "exited" ? " (exit code \(container.exitCode))" : ""))
            } else if check.requireHealthy, container.health != "healthy" {
                issues.append(container.health.map { "is \($0)" } ?? "has no healthcheck")
            }
            if let maxRestarts = check.maxRestarts, container.restartCount > maxRestarts {
                issues.append("restarted \(container.restartCount) times (allowed \(maxRestarts))")
            }
            if let limit = check.memoryMaxPercent, container.state == "running" {
                let memory = try await engine.memory(of: container)
                if memory.limit > 0 {
                    let percent = memory.used / memory.limit * 100
                    figures["memory_pct.\(service)"] = percent
                    if percent > limit { issues.append(String(format: "uses %.0f%% of its memory limit (allowed %.0f%%)", percent, limit)) }
                }
            }
            if issues.isEmpty { healthy += 1 } else { problems.append("\(service) " + issues.joined(separator: ", ")) }
        }
        let deployed = wanted.count - notDeployed.count
        var summary = "\(healthy)/\(deployed) \(check.requireHealthy ? "healthy" : "running")"
        if !notDeployed.isEmpty { summary += "; not deployed: \(notDeployed.joined(separator: ", "))" }
        return problems.isEmpty ? .pass(summary, figures: figures) : .fail(summary + ": " + problems.joined(separator: "; "), figures: figures)
    }

    // MARK: HTTP endpoints

    func baseURL(of service: String) -> String? {
        if let match = stack.services.first(where: { $0.name == service }) { return match.baseURL }
        switch service {
        case "cdb_prometheus": return prometheusURL(nil)
        case "cdb_grafana": return grafanaURL(nil)
        default: return nil
        }
    }

    func http(_ check: HTTPCheck) async -> CheckOutcome {
        let targets: [(String, String?)] = check.url.map { [(expand($0), expand($0))] }
            ?? check.services.map { ($0, baseURL(of: $0).map { $0 + check.path }) }
        var problems: [String] = []
        var passed: [String] = []
        var figures: [String: Double] = [:]
        for (name, url) in targets {
            guard let url else {
                problems.append("\(name): not a service cdbctl knows (\(stack.services.map(\.name).joined(separator: ", ")))")
                continue
            }
            do {
                let response = try await HTTPClient().get(url, timeout: .seconds(5))
                let latency = response.totalTime
                figures["latency_ms.\(name)"] = latency.milliseconds
                var issues: [String] = []
                if response.status != check.status { issues.append("answered \(response.status), expected \(check.status)") }
                if let maxLatency = check.maxLatency, latency > maxLatency {
                    issues.append("took \(latency.secondsText) (allowed \(maxLatency.secondsText))")
                }
                var found: [String] = []
                if !check.conditions.isEmpty {
                    if let document = JSONValue(json: response.body) {
                        for condition in check.conditions {
                            let (holds, value) = condition.evaluate(document)
                            found.append(value)
                            if !holds { issues.append("\(condition) does not hold: \(value)") }
                        }
                    } else {
                        issues.append("answer is not JSON: \(response.text.prefix(120))")
                    }
                }
                // The values behind the conditions are the point of a status check (the drawdown, the exposure).
                let values = check.conditions.contains { $0.op != .equal } ? " (" + found.joined(separator: ", ") + ")" : ""
                if issues.isEmpty { passed.append("\(name) \(response.status) in \(latency.secondsText)\(values)") } else { problems.append("\(url) " + issues.joined(separator: "; ")) }
            } catch {
                problems.append("\(error)")
            }
        }
        return problems.isEmpty ? .pass(passed.joined(separator: ", "), figures: figures) : .fail(problems.joined(separator: "; "), figures: figures)
    }

    /// `${NAME}` in a URL from the environment (ports, hosts).
    func expand(_ text: String) -> String {
        var result = text
        while let start = result.range(of: "${"), let end = result.range(of: "}", range: start.upperBound..<result.endIndex) {
            let name = String(result[start.upperBound..<end.lowerBound])
            result.replaceSubrange(start.lowerBound..<end.upperBound, with: environment[name] ?? "")
        }
        return result
    }

    // MARK: Redis

    func redis(_ check: RedisCheck, timeout: Duration) async throws -> CheckOutcome {
        let connection = try await RedisConnection(stack.redis)
        defer { Task { await connection.close() } }
        switch check {
        case .ping:
            let start = ContinuousClock.now
            let reply = try await connection.command("PING")
            return reply == .status("PONG") ? .pass("\(stack.redis.endpoint) PONG in \((ContinuousClock.now - start).secondsText)")
                : .fail("\(stack.redis.endpoint) answered \(reply) to PING")
        case .lag(let streams, let maxLag):
            var problems: [String] = []
            var figures: [String: Double] = [:]
            var groupsSeen = 0
            for stream in streams.isEmpty ? BusStream.allCases.map(\.rawValue) : streams {
                for group in try await connection.groups(of: stream) {
                    groupsSeen += 1
                    let lag = group.lag ?? 0
                    figures["lag.\(stream).\(group.name)"] = Double(lag)
                    figures["pending.\(stream).\(group.name)"] = Double(group.pending)
                    if lag > maxLag { problems.append("\(group.name) is \(lag) entries behind on \(stream) (allowed \(maxLag))") }
                    if group.pending > maxLag { problems.append("\(group.name) holds \(group.pending) unacknowledged entries of \(stream)") }
                }
            }
            if groupsSeen == 0 { return .fail("no consumer group on any stream: are the services running against \(stack.redis.endpoint)?") }
            return problems.isEmpty ? .pass("\(groupsSeen) consumer groups within \(maxLag) entries", figures: figures) : .fail(problems.joined(separator: "; "), figures: figures)
        case .eventFlow(let stream):
            return try await eventFlow(stream: stream, connection: connection, timeout: timeout)
        case .streamAdvances(let stream, let within):
            let first = try await lastID(of: stream, connection)
            let deadline = ContinuousClock.now + within
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(250))
                let current = try await lastID(of: stream, connection)
                if current != first { return .pass("\(stream) advanced from \(first ?? "empty") to \(current ?? "?")") }
            }
            return .fail("no new entry on \(stream) within \(within.secondsText) (last id \(first ?? "none")): is the feed running?")
        }
    }

    private func lastID(of stream: String, _ connection: RedisConnection) async throws -> String? {
        let reply = try await connection.command("XREVRANGE", stream, "+", "-", "COUNT", "1")
        guard case .array(let entries) = reply, case .array(let entry)? = entries.first, case .bulk(let id)? = entry.first else { return nil }
        return String(decoding: id, as: UTF8.self)
    }

    /// Seed §3.1 step 3, automated: a tagged probe tick is stored, seen on the pub/sub mirror, and then
    /// delivered to and acknowledged by every consumer group of the stream.
    private func eventFlow(stream: String, connection: RedisConnection, timeout: Duration) async throws -> CheckOutcome {
        // Its own deadline ends well inside the step's, so a slow hop is reported by name, not as a bare timeout.
        let deadline = ContinuousClock.now + timeout - max(.seconds(1), timeout / 4)
        let groups = try await connection.groups(of: stream)
        guard !groups.isEmpty else { return .fail("no consumer group reads \(stream): is cdb_core running?") }
        let probeID = "probe-\(UUID().uuidString.prefix(8).lowercased())"
        let tick = MarketTick(id: probeID, symbol: "CDBPROBE", price: 1, quantity: 0, eventTime: Date(), source: .probe)
        let subscription = try await RedisSubscription(stack.redis, channels: [stream])
        defer { subscription.close() }
        let start = ContinuousClock.now
        // Published the way the services publish (entry field, XADD and PUBLISH in one pipeline); trims nothing.
        let entryID = try await EventPublisher(redis: stack.redis, maxLength: nil).publish(stream, payload: tick.busJSON())
        var hops = ["stored as \(entryID)"]
        let mirrored = await withDeadline(.seconds(3), fallback: false) {
            do {
                for try await message in subscription.messages where message.text.contains(probeID) { return true }
            } catch {}
            return false
        }
        guard mirrored else { return .fail("probe \(probeID) stored as \(entryID) but never seen on the \(stream) pub/sub channel") }
        hops.append("pub/sub mirror in \((ContinuousClock.now - start).secondsText)")
        var waiting = Set(groups.map(\.name))
        while !waiting.isEmpty, ContinuousClock.now < deadline {
            for group in try await connection.groups(of: stream) where waiting.contains(group.name) {
                let delivered = Self.streamID(group.lastDeliveredID, isAtLeast: entryID)
                let pending = try await connection.pending(stream, group: group.name)
                let stillPending = pending.smallestID.map { Self.streamID(entryID, isAtLeast: $0) } ?? false
                if delivered && !stillPending {
                    waiting.remove(group.name)
                    hops.append("\(group.name) acknowledged in \((ContinuousClock.now - start).secondsText)")
                }
            }
            if !waiting.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard waiting.isEmpty else {
            return .fail("probe \(probeID) (\(entryID)) not acknowledged by \(waiting.sorted().joined(separator: ", ")) within \(timeout.secondsText); " + hops.joined(separator: ", "))
        }
        return .pass("probe \(probeID): " + hops.joined(separator: ", "), figures: ["probe_ms": (ContinuousClock.now - start).milliseconds])
    }

    /// Stream ids compare as (milliseconds, sequence).
    static func streamID(_ lhs: String, isAtLeast rhs: String) -> Bool {
        func parts(_ id: String) -> (Int, Int) {
            let pieces = id.split(separator: "-")
            return (Int(pieces.first ?? "0") ?? 0, Int(pieces.dropFirst().first ?? "0") ?? 0)
        }
        let (a, b) = (parts(lhs), parts(rhs))
        return a.0 > b.0 || (a.0 == b.0 && a.1 >= b.1)
    }

    // MARK: PostgreSQL

    func sql(_ check: SQLCheck) async throws -> CheckOutcome {
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

    /// Seed §4.1: the five tables' row counts, compared with the previous monitor cycle.
    func dataGrowth(mustGrow: [String], window: Duration) async throws -> CheckOutcome {
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
        let previous = previousCycle?.results.first { $0.figures.keys.contains { $0.hasPrefix("rows.") } }
        let summary = counts.keys.sorted().map { key in
            let name = String(key.dropFirst("rows.".count))
            let delta = previous?.figures[key].map { " (\(Self.signed(counts[key]! - $0)))" } ?? ""
            return "\(name) \(Int(counts[key]!))\(delta)"
        }.joined(separator: ", ")
        guard let previous, let cycle = previousCycle else { return .pass(summary + "; first cycle, nothing to compare", figures: counts) }
        let elapsed = now.timeIntervalSince(cycle.startedAt)
        let stalled = mustGrow.filter { (counts["rows.\($0)"] ?? 0) <= (previous.figures["rows.\($0)"] ?? 0) }
        if !stalled.isEmpty, elapsed >= Double(window.components.seconds) {
            return .fail("no new rows in \(stalled.joined(separator: ", ")) for \(Int(elapsed / 60)) min (alarm after \(window.secondsText)): \(summary)", figures: counts)
        }
        return .pass(summary + " since \(Int(elapsed / 60)) min ago", figures: counts)
    }

    static func signed(_ value: Double) -> String { value >= 0 ? "+\(Int(value))" : "\(Int(value))" }

    // MARK: Prometheus and Grafana

    func prometheusURL(_ url: String?) -> String {
        url.map(expand) ?? environment["PROMETHEUS_URL"] ?? "http://\(environment["CDB_HOST"] ?? "127.0.0.1"):\(environment["CDB_PROMETHEUS_PORT"] ?? "19090")"
    }

    func grafanaURL(_ url: String?) -> String {
        url.map(expand) ?? environment["GRAFANA_URL"] ?? "http://\(environment["CDB_HOST"] ?? "127.0.0.1"):\(environment["CDB_GRAFANA_PORT"] ?? "3000")"
    }

    func prometheus(url: String?, targetsUp: Bool, rules: [String], noFiring severities: [String]) async throws -> CheckOutcome {
        let base = prometheusURL(url)
        var problems: [String] = []
        var found: [String] = []
        if targetsUp {
            let response = try await HTTPClient().get(base + "/api/v1/targets?state=active", timeout: .seconds(5))
            guard response.status == 200, case .array(let targets)? = JSONValue(json: response.body)?.value(at: ["data", "activeTargets"]) else {
                return .fail("\(base)/api/v1/targets answered \(response.status)")
            }
            let down = targets.filter { $0.string(["health"]) != "up" }.map {
                "\($0.string(["labels", "job"]) ?? "?") \($0.string(["health"]) ?? "?")\($0.string(["lastError"]).map { $0.isEmpty ? "" : ": \($0)" } ?? "")"
            }
            if targets.isEmpty { problems.append("no scrape targets configured") }
            if !down.isEmpty { problems.append("targets not up: \(down.joined(separator: "; "))") }
            found.append("\(targets.count - down.count)/\(targets.count) targets up")
        }
        if !rules.isEmpty {
            let response = try await HTTPClient().get(base + "/api/v1/rules", timeout: .seconds(5))
            guard response.status == 200, case .array(let groups)? = JSONValue(json: response.body)?.value(at: ["data", "groups"]) else {
                return .fail("\(base)/api/v1/rules answered \(response.status)")
            }
            var loaded: Set<String> = []
            for group in groups {
                if case .array(let items)? = group.value(at: ["rules"]) { items.compactMap { $0.string(["name"]) }.forEach { loaded.insert($0) } }
            }
            let missing = rules.filter { !loaded.contains($0) }
            if !missing.isEmpty { problems.append("alert rules not loaded: \(missing.joined(separator: ", "))") }
            found.append("\(rules.count - missing.count)/\(rules.count) alert rules loaded")
        }
        if !severities.isEmpty {
            let response = try await HTTPClient().get(base + "/api/v1/alerts", timeout: .seconds(5))
            guard response.status == 200, case .array(let alerts)? = JSONValue(json: response.body)?.value(at: ["data", "alerts"]) else {
                return .fail("\(base)/api/v1/alerts answered \(response.status)")
            }
            let firing = alerts.filter { $0.string(["state"]) == "firing" && severities.contains($0.string(["labels", "severity"]) ?? "") }
                .map { "\($0.string(["labels", "alertname"]) ?? "?") (\($0.string(["labels", "severity"]) ?? "?"))" }
            if !firing.isEmpty { problems.append("alerts firing: \(firing.joined(separator: ", "))") }
            found.append("no \(severities.joined(separator: "/")) alert firing")
        }
        return problems.isEmpty ? .pass(found.joined(separator: ", ")) : .fail(problems.joined(separator: "; "))
    }

    func grafana(url: String?, dashboard: String) async throws -> CheckOutcome {
        // Without a registry Grafana cannot be deployed; that is reported, never passed.
        if let engine = try? DockerEngine(environment: environment, project: runbook.project),
           let containers = try? await engine.containers(), !containers.isEmpty,
           !containers.contains(where: { $0.service == "cdb_grafana" }) {
            return .skip("not deployed: no cdb_grafana container in project '\(runbook.project)'")
        }
        let base = grafanaURL(url)
        let user = environment["GRAFANA_USER"] ?? "admin"
        let password = environment["GRAFANA_PASSWORD"] ?? ""
        let credentials = Data("\(user):\(password)".utf8).base64EncodedString()
        let request = HTTPRequest(method: "GET", url: "\(base)/api/dashboards/uid/\(dashboard)",
                                  headers: [("Authorization", "Basic \(credentials)")], timeout: .seconds(5))
        let response = try await HTTPClient().send(request)
        switch response.status {
        case 200:
            let title = JSONValue(json: response.body)?.string(["dashboard", "title"]) ?? dashboard
            return .pass("dashboard '\(title)' (uid \(dashboard)) loads")
        case 401, 403: return .fail("\(base) refused \(user)'s login (\(response.status)): check GRAFANA_USER/GRAFANA_PASSWORD")
        case 404: return .fail("\(base) has no dashboard with uid \(dashboard): is provisioning mounted?")
        default: return .fail("\(base)/api/dashboards/uid/\(dashboard) answered \(response.status)")
        }
    }

    // MARK: stopping

    /// Output folders in runbook.yaml are relative to the reports directory (`--reports-dir`).
    func outputFolder(_ directory: String) -> String {
        directory.hasPrefix("/") ? directory : reportsDirectory + "/" + directory
    }

    func containerAction(_ action: DockerEngine.Action, services: [String]) async throws -> CheckOutcome {
        let engine = try DockerEngine(environment: environment, project: runbook.project)
        let containers = try await engine.containers()
        var done: [String] = []
        var problems: [String] = []
        for service in services {
            guard let container = containers.first(where: { $0.service == service || $0.name == service }) else {
                // Stopping what is not there is done; starting it is not.
                if action == .stop || action == .pause { done.append("\(service) not present") } else { problems.append("\(service): no container in project '\(runbook.project)'") }
                continue
            }
            let changed = try await engine.perform(action, on: container)
            done.append(changed ? "\(action.rawValue) \(service)" : "\(service) already \(action == .stop ? "stopped" : action == .pause ? "paused" : "running")")
        }
        return problems.isEmpty ? .pass(done.joined(separator: ", ")) : .fail((problems + done).joined(separator: "; "))
    }

    func openPositions(wait: Duration, poll: Duration, close: Bool) async throws -> CheckOutcome {
        let db: PostgresConnection
        do {
            db = try await PostgresConnection(stack.postgres)
        } catch {
            // A stop run again after `down`: the positions are as the earlier stop settled them, if it did.
            if let settled = await positionsSettledBeforeDown() { return settled }
            throw error
        }
        defer { Task { await db.close() } }
        let deadline = ContinuousClock.now + wait
        let count = "SELECT COUNT(*) AS n FROM positions WHERE status = 'open'"
        var open = try await db.query(count).first?["n"].flatMap(Int.init) ?? 0
        while open > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: min(poll, deadline - ContinuousClock.now))
            open = try await db.query(count).first?["n"].flatMap(Int.init) ?? 0
        }
        guard open > 0 else { return .pass("no open positions", figures: ["open_positions": 0]) }
        guard close else { return .fail("\(open) positions still open after \(wait.secondsText)") }
        // Seed §7.1: in paper mode a position left open is closed by marking it so, at its last known price.
        let closed = try await db.query("""
            UPDATE positions SET status = 'closed', closed_at = now(), updated_at = now() WHERE status = 'open'
            RETURNING symbol, size, current_price, unrealized_pnl
            """)
        let list = closed.map { "\($0["symbol"] ?? "?") \($0["size"] ?? "?") @ \($0["current_price"] ?? "?") (unrealized \($0["unrealized_pnl"] ?? "?"))" }
        return .pass("closed in paper mode after \(wait.secondsText): " + list.joined(separator: "; "), figures: ["closed_positions": Double(closed.count), "open_positions": 0])
    }

    /// With the project's containers gone, the last stop record's position step, if it passed.
    private func positionsSettledBeforeDown() async -> CheckOutcome? {
        guard let engine = try? DockerEngine(environment: environment, project: runbook.project),
              let containers = try? await engine.containers(), containers.isEmpty,
              let stop = ReportsDirectory(path: reportsDirectory).lastRecord(of: .stop),
              let settled = stop.results.first(where: { $0.figures["open_positions"] == 0 && $0.status == .pass }) else { return nil }
        return .pass("stack already down (project '\(runbook.project)' has no containers); settled by the stop of \(ReportsDirectory.stampFormatter.string(from: stop.startedAt)): \(settled.detail)", figures: ["open_positions": 0])
    }

    func archiveLogs(directory: String, tail: Int?) async throws -> CheckOutcome {
        let engine = try DockerEngine(environment: environment, project: runbook.project)
        let containers = try await engine.containers()
        guard !containers.isEmpty else { return .pass("no containers in project '\(runbook.project)': nothing to archive") }
        let folder = outputFolder(directory) + "/" + ReportsDirectory.stampFormatter.string(from: Date())
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var lines = 0
        for container in containers {
            let log = try await engine.logs(of: container, tail: tail)
            lines += log.count
            try Data((log.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: "\(folder)/\(container.service).log"), options: .atomic)
        }
        return .pass("\(containers.count) logs, \(lines) lines in \(folder)", figures: ["log_lines": Double(lines)])
    }

    func incidentReport(directory: String) async throws -> CheckOutcome {
        let folder = outputFolder(directory)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let now = Date()
        var text = ["# Emergency stop", "", "- Date: \(ISO8601DateFormatter().string(from: now))", "- Reason: \(stopReason ?? "(none given)")", "",
                    "## Container status before the stop", "", "| Container | State | Health | Restarts |", "|---|---|---|---|"]
        text += containersBeforeStop.map { "| \($0.service) | \($0.state) | \($0.health ?? "-") | \($0.restartCount) |" }
        if containersBeforeStop.isEmpty { text.append("| (no containers found) | | | |") }
        text += ["", "## Last 200 log lines", ""]
        if let engine = try? DockerEngine(environment: environment, project: runbook.project), let containers = try? await engine.containers() {
            for container in containers {
                let lines = (try? await engine.logs(of: container, tail: 200)) ?? ["(logs unavailable)"]
                text += ["### \(container.service)", "", "```"] + lines + ["```", ""]
            }
        } else {
            text.append("(the Docker engine did not answer)")
        }
        text += ["## Next steps", "", "- Root-cause analysis", "- Bug fix", "- New test start after validation (cdbctl preflight, go, start)"]
        let path = "\(folder)/emergency-stop-\(ReportsDirectory.stampFormatter.string(from: now)).md"
        try Data((text.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        return .pass("incident report \(path)")
    }

    // MARK: incidents

    func evidence(services: [String], logLines: Int, stats: Bool, status: [String], sql: [String: String]) async throws -> CheckOutcome {
        guard let incident else { return .fail("evidence is gathered by a playbook (cdbctl incident <kind>)") }
        let folder = incident.directory
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var saved: [String] = []
        var problems: [String] = []
        func save(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: "\(folder)/\(name)"), options: .atomic)
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

    func escalation(window: Duration) -> CheckOutcome {
        guard let incident else { return .fail("escalation is judged by a playbook (cdbctl incident <kind>)") }
        let earlier = incident.history.earlier(than: incident.entry, within: window)
        guard let first = earlier.last else {
            return .pass("first \(incident.entry.kind) of \(incident.entry.service) within \(window.secondsText)")
        }
        return .fail("\(incident.entry.kind) of \(incident.entry.service) again within \(window.secondsText) (previous: \(first.id) at \(ISO8601DateFormatter().string(from: first.time))): emergency stop",
                     figures: ["escalate": 1])
    }

    // MARK: commands, backups, logs

    func recorded(phase: PhaseName, steps: [String], maxAge: Duration) -> CheckOutcome {
        guard let record = ReportsDirectory(path: reportsDirectory).lastRecord(of: phase) else {
            return .fail("no \(phase.rawValue) on record under \(reportsDirectory): run cdbctl \(phase.rawValue)")
        }
        let age = Date().timeIntervalSince(record.finishedAt)
        var problems: [String] = []
        if age > Double(maxAge.components.seconds) {
            problems.append("the last \(phase.rawValue) is \(GoDecision.hours(age)) old (allowed \(maxAge.secondsText))")
        }
        for id in steps {
            guard let result = record.results.first(where: { $0.id == id }) else { problems.append("\(id) not in the record"); continue }
            if result.status != .pass { problems.append("\(id) \(result.status.rawValue): \(result.detail)") }
        }
        let when = ISO8601DateFormatter().string(from: record.finishedAt)
        return problems.isEmpty ? .pass("\(steps.joined(separator: ", ")) passed in the \(phase.rawValue) of \(when)")
            : .fail("\(phase.rawValue) of \(when): " + problems.joined(separator: "; "))
    }

    func command(_ arguments: [String], minimumPassed: Int, timeout: Duration) async throws -> CheckOutcome {
        let result = try await runCommand(arguments[0], Array(arguments.dropFirst()), workingDirectory: projectDirectory, timeout: timeout)
        let counts = TestOutputSummary(parsing: result.output)
        let figures: [String: Double] = ["passed": Double(counts.passed), "failed": Double(counts.failed), "skipped": Double(counts.skipped)]
        // Without a test count to hold it to, a command is judged by its exit status alone.
        let summary = minimumPassed == 0 && counts == TestOutputSummary(passed: 0, failed: 0, skipped: 0)
            ? "\(arguments.joined(separator: " ")) succeeded" : "\(counts.passed) passed, \(counts.failed) failed, \(counts.skipped) skipped"
        if result.timedOut { return .fail("\(arguments.joined(separator: " ")) did not finish within \(timeout.secondsText); \(summary)", figures: figures) }
        guard result.status == 0, counts.failed == 0 else {
            let why = counts.failedNames.isEmpty
                ? "last output: " + result.output.split(separator: "\n").suffix(5).joined(separator: " | ")
                : "failed: " + counts.failedNames.map { "\"\($0)\"" }.joined(separator: ", ")
            // The whole output is kept: a red test step is investigated from it, not from five lines.
            let log = outputFolder("commands") + "/\(ReportsDirectory.stampFormatter.string(from: Date()))-\(arguments.last ?? "command").log"
            try? FileManager.default.createDirectory(atPath: outputFolder("commands"), withIntermediateDirectories: true)
            let kept = (try? Data(result.output.utf8).write(to: URL(fileURLWithPath: log))) != nil ? " (output: \(log))" : ""
            return .fail("\(arguments.joined(separator: " ")) exited \(result.status): \(summary); \(why)\(kept)", figures: figures)
        }
        guard minimumPassed == 0 || counts.passed >= minimumPassed else {
            return .fail("\(summary): expected at least \(minimumPassed) passing tests — did the suite run at all?", figures: figures)
        }
        return .pass(summary, figures: figures)
    }

    func backup(directory: String, restoreCheck: Bool, acceptRecent: Duration?, timeout: Duration) async throws -> CheckOutcome {
        let folder = outputFolder(directory)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let stamp = ReportsDirectory.stampFormatter.string(from: Date())
        let file = "\(folder)/claire_de_binare-\(stamp).dump"
        let postgres = stack.postgres
        let (connection, environment) = postgresClientArguments()
        let dump = try await runCommand("pg_dump", connection + ["-d", postgres.database, "-Fc", "-f", file],
                                        environment: environment, timeout: timeout)
        guard dump.status == 0 else {
            try? FileManager.default.removeItem(atPath: file)
            if let acceptRecent, let recent = await recentBackupWhileDown(folder: folder, within: acceptRecent) { return recent }
            return .fail("pg_dump of \(postgres.endpoint) failed (\(dump.status)): \(dump.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        let listing = try await runCommand("pg_restore", ["--list", file], timeout: .seconds(30))
        let tables = Set(listing.output.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard let index = words.firstIndex(of: "TABLE"), words.count > index + 2, !line.contains("TABLE DATA") else { return nil }
            return String(words[index + 2])
        })
        let required = ["signals", "orders", "trades", "positions", "portfolio_snapshots"]
        let missing = required.filter { !tables.contains($0) }
        guard listing.status == 0, size > 0, missing.isEmpty else {
            return .fail("backup \(file) (\(size) bytes) is not usable: " + (listing.status != 0 ? listing.output : "tables missing: \(missing.joined(separator: ", "))"))
        }
        var detail = "\(file) (\(size / 1024) KiB, \(tables.count) tables)"
        if restoreCheck {
            // Restored into a scratch database on the same server, counted, dropped: proof the file restores.
            let scratch = "cdb_restore_check_\(UUID().uuidString.prefix(8).lowercased())"
            let admin = try await PostgresConnection(postgres.with(database: postgres.database))
            try await admin.execute("CREATE DATABASE \(scratch)")
            let restored: Result<String, any Error>
            do {
                let restore = try await runCommand("pg_restore", connection + ["-d", scratch, "--no-owner", file], environment: environment, timeout: timeout)
                if restore.status != 0 { throw ChildProcessError(message: "\(file) does not restore: \(restore.output.prefix(300))") }
                let check = try await PostgresConnection(postgres.with(database: scratch))
                restored = .success(try await check.query("SELECT COUNT(*) AS n FROM signals").first?["n"] ?? "?")
                await check.close()
            } catch {
                restored = .failure(error)
            }
            // Dropped before returning, pass or fail: a check must not leave databases behind.
            _ = try? await admin.execute("DROP DATABASE IF EXISTS \(scratch)")
            await admin.close()
            switch restored {
            case .success(let count): detail += "; restores (\(count) signals)"
            case .failure(let error): return .fail("\(error)")
            }
        }
        return .pass(detail, figures: ["backup_bytes": Double(size)])
    }

    /// When the stack is already down (a stop run again), the backup taken before going down stands in, if fresh.
    private func recentBackupWhileDown(folder: String, within age: Duration) async -> CheckOutcome? {
        guard let engine = try? DockerEngine(environment: environment, project: runbook.project),
              let containers = try? await engine.containers(), containers.isEmpty else { return nil }
        guard let newest = Self.newestBackup(in: folder), newest.age <= Double(age.components.seconds) else { return nil }
        return .pass("stack already down (project '\(runbook.project)' has no containers); the backup taken before: \(newest.path), \(Int(newest.age / 60)) min old")
    }

    /// The newest `*.dump` directly in `folder` (safety copies in subfolders never count), with its age in seconds.
    static func newestBackup(in folder: String) -> (path: String, modified: Date, age: Double)? {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let newest = files.filter { $0.hasSuffix(".dump") }.compactMap { name -> (String, Date)? in
            guard let modified = try? FileManager.default.attributesOfItem(atPath: folder + "/" + name)[.modificationDate] as? Date else { return nil }
            return (folder + "/" + name, modified)
        }.max { $0.1 < $1.1 }
        return newest.map { ($0.0, $0.1, Date().timeIntervalSince($0.1)) }
    }

    func logs(services: [String], window: Duration, patterns: [String]) async throws -> CheckOutcome {
        let engine = try DockerEngine(environment: environment, project: runbook.project)
        let containers = try await engine.containers()
        let since = Date().addingTimeInterval(-Double(window.components.seconds))
        var hits: [String] = []
        var checked: [String] = []
        for service in services.isEmpty ? stackServices : services {
            guard let container = containers.first(where: { $0.service == service || $0.name == service }) else {
                // A service named in the runbook whose logs cannot be read is not a clean log.
                if !services.isEmpty { hits.append("\(service): no container in project '\(runbook.project)', its log cannot be checked") }
                continue
            }
            checked.append(service)
            let lines = try await engine.logs(of: container, since: since)
            let matching = lines.filter { line in patterns.contains { line.contains($0) } }
            if let first = matching.first { hits.append("\(service): \(matching.count) lines, first: \(first.prefix(160))") }
        }
        guard !checked.isEmpty else { return .fail("none of \(services.joined(separator: ", ")) has a container in project '\(runbook.project)'") }
        return hits.isEmpty ? .pass("no \(patterns.joined(separator: "/")) in the last \(window.secondsText) of \(checked.joined(separator: ", "))")
            : .fail(hits.joined(separator: "; "))
    }
}

extension PostgresConfiguration {
    func with(database: String) -> PostgresConfiguration {
        var copy = self
        copy.database = database
        return copy
    }
}

/// Pass/fail/skip counts from Swift Testing's or XCTest's output.
public struct TestOutputSummary: Sendable, Equatable {
    public var passed = 0
    public var failed = 0
    public var skipped = 0
    /// The failing tests' names, so a red step says which ones.
    public var failedNames: [String] = []

    public init(passed: Int, failed: Int, skipped: Int) {
        self.passed = passed
        self.failed = failed
        self.skipped = skipped
    }

    public init(parsing output: String) {
        for line in output.split(separator: "\n") {
            // Swift Testing: one line per test case verdict.
            if line.contains("Test \""), line.contains("\" passed after") { passed += 1 }
            else if line.contains("Test \""), line.contains("\" failed after"),
                    let start = line.range(of: "Test \""), let end = line.range(of: "\" failed after") {
                failed += 1
                failedNames.append(String(line[start.upperBound..<end.lowerBound]))
            }
            else if line.contains("Test \""), line.contains("\" skipped") { skipped += 1 }
            // XCTest: "Test Case '-[…]' passed (0.001 seconds)."
            else if line.hasPrefix("Test Case '"), line.contains("' passed (") { passed += 1 }
            else if line.hasPrefix("Test Case '"), line.contains("' failed (") { failed += 1 }
            else if line.hasPrefix("Test Case '"), line.contains("' skipped (") { skipped += 1 }
        }
    }
}

/// The `env` check: every rule, every problem in one message; secrets are never printed.
public enum EnvRuleCheck {
    public static func evaluate(_ rules: [EnvRule], environment: [String: String]) -> CheckOutcome {
        var problems: [String] = []
        for rule in rules {
            guard let value = environment[rule.name], !value.isEmpty else {
                if rule.required { problems.append("\(rule.name) is not set") }
                continue
            }
            let secret = ["PASSWORD", "TOKEN", "SECRET"].contains { rule.name.contains($0) }
            let shown = secret ? "<\(value.count) characters>" : "'\(value)'"
            switch rule.kind {
            case .string:
                break
            case .host:
                if value.contains(where: { $0.isWhitespace || $0 == "/" }) { problems.append("\(rule.name): expected a host name, got \(shown)") }
            case .integer, .port, .decimal:
                guard let number = rule.kind == .decimal ? Double(value) : Int(value).map(Double.init) else {
                    problems.append("\(rule.name): expected \(rule.kind == .decimal ? "a number" : "an integer"), got \(shown)")
                    continue
                }
                let minimum = rule.minimum ?? (rule.kind == .port ? 1 : -.infinity)
                let maximum = rule.maximum ?? (rule.kind == .port ? 65535 : .infinity)
                if number < minimum || number > maximum {
                    problems.append("\(rule.name): \(shown) is outside \(Self.format(minimum))–\(Self.format(maximum))")
                }
            }
            if let minLength = rule.minLength, value.count < minLength {
                problems.append("\(rule.name): must be at least \(minLength) characters, has \(value.count)")
            }
            if let expected = rule.expected, value != expected {
                problems.append("\(rule.name): expected '\(expected)', got \(shown)")
            }
        }
        return problems.isEmpty ? .pass("\(rules.count) variables valid") : .fail(problems.joined(separator: "; "))
    }

    static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e12 ? "\(Int(value))" : "\(value)"
    }
}
