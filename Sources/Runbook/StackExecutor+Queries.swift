import Foundation
import HTTPClient
import PostgresClient
import Primitives
import StackContract

// What the stack stores and measures: `sql` and `data_growth` on PostgreSQL, `prometheus`, `grafana`.

extension StackExecutor {
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
        if !stalled.isEmpty, elapsed >= window.seconds {
            return .fail("no new rows in \(stalled.joined(separator: ", ")) for \(Int(elapsed / 60)) min (alarm after \(window.secondsText)): \(summary)", figures: counts)
        }
        return .pass(summary + " since \(Int(elapsed / 60)) min ago", figures: counts)
    }

    static func signed(_ value: Double) -> String { value >= 0 ? "+\(Int(value))" : "\(Int(value))" }

    // MARK: Prometheus and Grafana

    func prometheusURL(_ url: String?) -> String {
        url.map(expand) ?? environment["PROMETHEUS_URL"] ?? publishedURL(.prometheusPort)
    }

    func grafanaURL(_ url: String?) -> String {
        url.map(expand) ?? environment["GRAFANA_URL"] ?? publishedURL(.grafanaPort)
    }

    /// `http://<CDB_HOST>:<port>` from the environment as given, with the catalogue's defaults for what is unset.
    private func publishedURL(_ port: Setting<Int>) -> String {
        let host = Setting<String>.cdbHost.definition
        return "http://\(environment[host.name] ?? host.defaultText ?? ""):\(environment[port.name] ?? port.definition.defaultText ?? "")"
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
}
