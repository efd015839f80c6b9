import Foundation
import HTTPClient
import PostgresClient

// Playbook actions: stopping (container actions, open positions, archived logs, the incident report) and
// incident evidence and escalation.

extension StackExecutor {
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
}
