import DockerClient
import Foundation
import Mustache
import PostgresClient
import Runbook
import TradeStore

/// Which review of seed §6 a report is: the 09:00 morning check (§6.1), the 21:00 evening review (§6.2),
/// or the daily report with both and the charts.
public enum ReportKind: String, Sendable, Codable, CaseIterable {
    case daily, morning, evening

    /// The seed's statements this report runs, verbatim, in the seed's order.
    var queries: [RunbookQuery] {
        switch self {
        case .morning: return [RunbookQueries.morningSignalsPerDay, RunbookQueries.morningTradingStatistics]
        case .evening: return [RunbookQueries.eveningDailyPnl, RunbookQueries.eveningPositionAnalysis, RunbookQueries.eveningRiskMetrics,
                               RunbookQueries.dailyReportTradingStats]
        case .daily: return ReportKind.morning.queries + ReportKind.evening.queries
        }
    }

    var includesCharts: Bool { self != .morning }
    var includesOvernightLogs: Bool { self != .evening }

    /// The §4.1 expectations the review holds its window to: the morning check asks for the signals (§6.1), the
    /// evening review for orders, trades, positions and snapshots, the daily report for all.
    var expectations: [ReviewExpectation] {
        let morning = ["signals-per-day"]
        return ReviewExpectation.seed.filter { self == .daily || (self == .morning) == morning.contains($0.id) }
    }
}

/// One of the seed's SQL statements with what it returned.
public struct QueryResult: Sendable, Codable {
    public var id: String
    public var section: String
    public var title: String
    public var sql: String
    public var columns: [String]
    public var rows: [[String?]]
    public var error: String?
}

public struct ContainerLine: Sendable, Codable {
    public var service: String
    public var state: String
    public var health: String
    public var restarts: Int
}

public struct LogFinding: Sendable, Codable {
    public var service: String
    public var matches: Int
    public var examples: [String]
}

public struct SeriesPoint: Sendable, Codable, Equatable {
    public var time: Date
    public var value: Double
}

/// Everything a report shows; the Markdown is rendered from it and it is written as the JSON twin.
public struct ReportData: Sendable, Codable {
    public var kind: ReportKind
    public var generatedAt: Date
    public var containers: [ContainerLine]
    /// Why the container table is empty, when it is.
    public var containersProblem: String?
    public var overnightLogs: [LogFinding]
    public var logsProblem: String?
    public var queries: [QueryResult]
    public var equity: [SeriesPoint]
    /// Percent of day-start equity, as the snapshots store it.
    public var dailyDrawdownPercent: [SeriesPoint]
    /// The review's figures against the seed's expectations; the command fails (exit 1) when one does not hold.
    public var judgement: ReviewJudgement

    enum CodingKeys: String, CodingKey {
        case kind, containers, queries, equity, judgement
        case generatedAt = "generated_at"
        case containersProblem = "containers_problem"
        case overnightLogs = "overnight_logs"
        case logsProblem = "logs_problem"
        case dailyDrawdownPercent = "daily_drawdown_pct"
    }
}

/// Gathers a §6 report from the stack: the Engine API for containers and logs, PostgreSQL for the seed's SQL.
public struct ReportBuilder: Sendable {
    public var environment: [String: String]
    public var stack: StackSettings
    public var project: String
    /// The services the review expects running (the stack's, less those that may be absent).
    public var expectedServices: [String]
    /// Services the run holds on purpose: shown, never judged unhealthy.
    public var heldServices: Set<String>

    public init(environment: [String: String], stack: StackSettings, project: String, expectedServices: [String] = stackServices,
                heldServices: Set<String> = []) {
        self.environment = environment
        self.stack = stack
        self.project = project
        self.expectedServices = expectedServices
        self.heldServices = heldServices
    }

    /// `runStartedAt`: the run's start, so a review on day 1 expects a day's figures only pro rata.
    public func build(_ kind: ReportKind, now: Date = Date(), runStartedAt: Date? = nil) async throws -> ReportData {
        let windowHours = runStartedAt.map { min(24, max(0, now.timeIntervalSince($0) / 3600)) } ?? 24
        var data = ReportData(kind: kind, generatedAt: now, containers: [], containersProblem: nil, overnightLogs: [], logsProblem: nil,
                              queries: [], equity: [], dailyDrawdownPercent: [], judgement: ReviewJudgement(items: [], windowHours: windowHours))
        do {
            let engine = try DockerEngine(environment: environment, project: project)
            let containers = try await engine.containers()
            data.containers = containers.map {
                ContainerLine(service: $0.service, state: $0.state, health: $0.health ?? "no healthcheck", restarts: $0.restartCount)
            }
            if containers.isEmpty { data.containersProblem = "no containers in compose project '\(project)'" }
            if kind.includesOvernightLogs {
                // Seed §6.1 step 2: the last 8 hours of the trading services, ERROR or CRITICAL.
                for container in containers where ["cdb_core", "cdb_risk", "cdb_execution"].contains(container.service) {
                    let lines = try await engine.logs(of: container, since: now.addingTimeInterval(-8 * 3600))
                    let matching = lines.filter { $0.contains("ERROR") || $0.contains("CRITICAL") }
                    data.overnightLogs.append(LogFinding(service: container.service, matches: matching.count, examples: Array(matching.prefix(3))))
                }
            }
        } catch {
            data.containersProblem = "\(error)"
            if kind.includesOvernightLogs { data.logsProblem = "\(error)" }
        }
        let db = try await PostgresConnection(stack.postgres)
        for query in kind.queries {
            do {
                let rows = try await db.query(query.sql)
                data.queries.append(QueryResult(id: query.id, section: query.section, title: query.title, sql: query.sql, columns: rows.columns,
                                                rows: rows.map { row in rows.columns.map { row[$0] } }, error: nil))
            } catch {
                data.queries.append(QueryResult(id: query.id, section: query.section, title: query.title, sql: query.sql, columns: [], rows: [],
                                                error: "\(error)"))
            }
        }
        if kind.includesCharts {
            let series = try await db.query("""
                SELECT extract(epoch FROM timestamp) AS t, equity_usd, daily_drawdown_pct
                FROM portfolio_snapshots WHERE timestamp > $1 ORDER BY timestamp, id
                """, [now.addingTimeInterval(-24 * 3600)])
            for row in series {
                guard let seconds = row["t"].flatMap(Double.init) else { continue }
                let time = Date(timeIntervalSince1970: seconds)
                if let equity = row["equity_usd"].flatMap(Double.init) { data.equity.append(SeriesPoint(time: time, value: equity)) }
                if let drawdown = row["daily_drawdown_pct"].flatMap(Double.init) { data.dailyDrawdownPercent.append(SeriesPoint(time: time, value: drawdown)) }
            }
        }
        data.judgement.items = try await judge(kind, data, db, windowHours: windowHours)
        await db.close()
        return data
    }

    /// The containers and logs the review saw (a table it could not read fails: unknown is not healthy), then the
    /// last 24 hours' counts against §4.1.
    private func judge(_ kind: ReportKind, _ data: ReportData, _ db: PostgresConnection, windowHours: Double) async throws -> [ReviewItem] {
        var items: [ReviewItem] = []
        if kind.includesOvernightLogs {
            // A container missing is no more healthy than one exited; one held on purpose is neither.
            let unhealthy = data.containers.filter { !heldServices.contains($0.service) && ($0.state != "running" || !["healthy", "no healthcheck"].contains($0.health)) }
                .map(\.service) + expectedServices.filter { service in !heldServices.contains(service) && !data.containers.contains { $0.service == service } }
            let held = heldServices.isEmpty ? "" : " (held, not judged: \(heldServices.sorted().joined(separator: ", ")))"
            items.append(ReviewItem(id: "containers-healthy", title: "Containers not running and healthy" + (unhealthy.isEmpty ? "" : ": \(unhealthy.joined(separator: ", "))"),
                                    value: Double(data.containersProblem == nil ? unhealthy.count : 1),
                                    expected: (data.containersProblem.map { "0 (not readable: \($0))" } ?? "0") + held,
                                    passed: data.containersProblem == nil && unhealthy.isEmpty))
            let errors = data.overnightLogs.reduce(0) { $0 + $1.matches }
            items.append(ReviewItem(id: "overnight-errors", title: "ERROR / CRITICAL lines overnight", value: Double(errors),
                                    expected: data.logsProblem.map { "0 (not readable: \($0))" } ?? "0", passed: data.logsProblem == nil && errors == 0))
        }
        let counts = try await db.query("""
            SELECT (SELECT count(*) FROM signals WHERE timestamp > now() - interval '24 hours') AS signals,
                   (SELECT count(*) FROM orders WHERE timestamp > now() - interval '24 hours') AS orders,
                   (SELECT count(*) FROM trades WHERE timestamp > now() - interval '24 hours') AS trades,
                   (SELECT count(*) FROM positions WHERE status = 'open') AS open_positions,
                   (SELECT count(*) FROM portfolio_snapshots WHERE timestamp > now() - interval '24 hours') AS portfolio_snapshots
            """).first
        for expectation in kind.expectations {
            let value = counts?[expectation.figure].flatMap(Double.init) ?? 0
            items.append(expectation.judge(value, hours: windowHours))
        }
        return items
    }
}

/// Writes a report: Markdown from `templates/report.md.mustache`, the JSON twin, and the SVG charts.
public struct ReportWriter: Sendable {
    public var templatesDirectory: String
    public var outputDirectory: String
    /// The stack's secrets, hidden in what is written.
    public var mask: SecretMask

    public init(templatesDirectory: String, outputDirectory: String, mask: SecretMask) {
        self.templatesDirectory = templatesDirectory
        self.outputDirectory = outputDirectory
        self.mask = mask
    }

    /// Returns the Markdown path.
    public func write(_ data: ReportData) throws -> String {
        let templatePath = templatesDirectory + "/report.md.mustache"
        guard let text = try? String(contentsOfFile: templatePath, encoding: .utf8) else {
            throw ReportError(message: "cannot read the report template \(templatePath)")
        }
        let template: MustacheTemplate
        do {
            template = try MustacheTemplate(string: text)
        } catch {
            throw ReportError(message: "\(templatePath): not a valid Mustache template (\(error))")
        }
        try OperatorFiles.createPrivateDirectory(outputDirectory)
        let stamp = ReportsDirectory.stampFormatter.string(from: data.generatedAt)
        let base = "\(data.kind.rawValue)-\(stamp)"
        var charts: [String: String] = [:]
        if data.kind.includesCharts {
            let equity = SVGLineChart(title: "Equity (USD), last 24 h", points: data.equity, format: "%.2f").render()
            let drawdown = SVGLineChart(title: "Daily drawdown (% of day-start equity), last 24 h", points: data.dailyDrawdownPercent, format: "%.2f %%").render()
            try OperatorFiles.writePrivateText(equity, to: "\(outputDirectory)/\(base)-equity.svg", masking: mask)
            try OperatorFiles.writePrivateText(drawdown, to: "\(outputDirectory)/\(base)-drawdown.svg", masking: mask)
            charts = ["equity": "\(base)-equity.svg", "drawdown": "\(base)-drawdown.svg"]
        }
        let markdown = template.render(Self.context(data, charts: charts))
        let markdownPath = "\(outputDirectory)/\(base).md"
        try OperatorFiles.writePrivateText(markdown, to: markdownPath, masking: mask)
        try OperatorFiles.writePrivateText(String(decoding: try ReportsDirectory.encoder.encode(data), as: UTF8.self),
                                           to: "\(outputDirectory)/\(base).json", masking: mask)
        return markdownPath
    }

    /// The template's view of the data: plain dictionaries and strings, Markdown tables pre-cut.
    static func context(_ data: ReportData, charts: [String: String]) -> [String: Any] {
        let formatter = ISO8601DateFormatter()
        let tables: [[String: Any]] = data.queries.map { query in
            let header = "| " + query.columns.joined(separator: " | ") + " |"
            let rule = "|" + String(repeating: "---|", count: max(query.columns.count, 1))
            let rows = query.rows.map { "| " + $0.map(HumanFigures.cell).joined(separator: " | ") + " |" }
            return [
                "title": query.title, "section": query.section, "sql": query.sql.trimmingCharacters(in: .whitespacesAndNewlines),
                "table": ([header, rule] + (rows.isEmpty ? ["| " + Array(repeating: "(no rows)", count: max(query.columns.count, 1)).joined(separator: " | ") + " |"] : rows)).joined(separator: "\n"),
                "error": query.error ?? "", "failed": query.error != nil,
            ]
        }
        let judged: [[String: String]] = data.judgement.items.map {
            ["title": $0.title, "value": HumanFigures.cell(String($0.value)), "expected": $0.expected, "verdict": $0.passed ? "PASS" : "FAIL"]
        }
        var context: [String: Any] = [
            "kind": data.kind.rawValue,
            "title": ["daily": "Daily report", "morning": "Morning check (seed §6.1)", "evening": "Evening review (seed §6.2)"][data.kind.rawValue]!,
            "generated_at": formatter.string(from: data.generatedAt),
            "containers": data.containers.map { ["service": $0.service, "state": $0.state, "health": $0.health, "restarts": "\($0.restarts)"] },
            "has_containers": !data.containers.isEmpty,
            "judgement": judged,
            "review_passed": data.judgement.passed,
            "window_hours": String(format: "%.1f", data.judgement.windowHours),
            "queries": tables,
            "show_logs": data.kind.includesOvernightLogs,
            "overnight_logs": data.overnightLogs.map { ["service": $0.service, "matches": "\($0.matches)", "examples": $0.examples.joined(separator: " / ")] },

            "show_charts": data.kind.includesCharts,
            "snapshot_count": "\(data.equity.count)",
        ]
        // Only what is there: a missing value left in as an optional renders as the word "nil".
        if let problem = data.containersProblem { context["containers_problem"] = problem }
        if let problem = data.logsProblem { context["logs_problem"] = problem }
        if let equity = charts["equity"], let drawdown = charts["drawdown"] {
            context["equity_chart"] = equity
            context["drawdown_chart"] = drawdown
        }
        return context
    }
}
