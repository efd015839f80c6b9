import ChildProcesses
import Foundation
import HTTPClient
import PostgresClient
import Primitives

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
    /// Told how each running `command` step is getting on, while it runs (cdbctl shows it on stderr).
    public var commandProgress: (@Sendable (StepProgress) -> Void)?

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
            case .command(let arguments, let minimumPassed):
                return try await command(arguments, minimumPassed: minimumPassed, timeout: step.timeout, step: step.id)
            case .backup(let directory, let restoreCheck, let acceptRecent, let every):
                if let every, let kept = Self.newestBackup(in: outputFolder(directory)), kept.age <= every.seconds {
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

    // MARK: commands, backups, logs

    func recorded(phase: PhaseName, steps: [String], maxAge: Duration) -> CheckOutcome {
        guard let record = ReportsDirectory(path: reportsDirectory).lastRecord(of: phase) else {
            return .fail("no \(phase.rawValue) on record under \(reportsDirectory): run cdbctl \(phase.rawValue)")
        }
        let age = Date().timeIntervalSince(record.finishedAt)
        var problems: [String] = []
        if age > maxAge.seconds {
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

    func command(_ arguments: [String], minimumPassed: Int, timeout: Duration, step: String) async throws -> CheckOutcome {
        let watch = commandProgress.map { CommandWatch(step: step, observer: $0) }
        defer { watch?.finish() }
        var onLines: (@Sendable ([Substring]) -> Void)?
        if let watch { onLines = { watch.consume($0) } }
        let result = try await runCommand(arguments[0], Array(arguments.dropFirst()), workingDirectory: projectDirectory, timeout: timeout,
                                          onLines: onLines)
        let counts = TestOutputSummary(parsing: result.output)
        let figures: [String: Double] = ["passed": Double(counts.passed), "failed": Double(counts.failed), "skipped": Double(counts.skipped)]
        // Without a test count to hold it to, a command is judged by its exit status alone.
        let counted = !(minimumPassed == 0 && counts == TestOutputSummary(passed: 0, failed: 0, skipped: 0))
        let command = arguments.joined(separator: " ")
        let summary = counted ? "\(counts.passed) passed, \(counts.failed) failed, \(counts.skipped) skipped" : "\(command) succeeded"
        let tally = counted ? "; \(summary)" : ""
        if result.timedOut { return .fail("\(command) did not finish within \(timeout.secondsText)\(tally)", figures: figures) }
        guard result.status == 0, counts.failed == 0 else {
            let lastLines = result.output.split(separator: "\n").suffix(5).joined(separator: " | ")
            let why = counts.failedNames.isEmpty
                ? (lastLines.isEmpty ? "no output" : "last output: " + lastLines)
                : "failed: " + counts.failedNames.map { "\"\($0)\"" }.joined(separator: ", ")
            // The whole output is kept: a red test step is investigated from it, not from five lines.
            let log = outputFolder("commands") + "/\(ReportsDirectory.stampFormatter.string(from: Date()))-\(arguments.last ?? "command").log"
            try? FileManager.default.createDirectory(atPath: outputFolder("commands"), withIntermediateDirectories: true)
            let kept = (try? Data(result.output.utf8).write(to: URL(fileURLWithPath: log))) != nil ? " (output: \(log))" : ""
            return .fail("\(command) exited \(result.status)\(tally); \(why)\(kept)", figures: figures)
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
        guard let newest = Self.newestBackup(in: folder), newest.age <= age.seconds else { return nil }
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
        let since = Date().addingTimeInterval(-window.seconds)
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
