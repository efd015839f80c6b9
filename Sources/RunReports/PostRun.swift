import DockerClient
import Foundation
import Mustache
import PostgresClient
import Runbook
import TradeStore

/// Seed §8: exports, trading and system metrics, risk compliance and the final report of §8.4.
public struct PostRunAnalysis: Sendable, Codable {
    public struct Export: Sendable, Codable {
        public var table: String
        public var file: String
        public var rows: Int
    }

    public struct ContainerFigures: Sendable, Codable {
        public var service: String
        public var state: String
        public var restarts: Int
        /// Share of the run the container has been up since its last start, in percent.
        public var uptimePercent: Double?
        public var errors: Int
        public var warnings: Int
    }

    public var generatedAt: Date
    public var runStartedAt: Date?
    public var exports: [Export]
    /// The seed's §8.2 statements, verbatim, with their results.
    public var queries: [QueryResult]
    public var totalPnl: Double?
    public var winRatePercent: Double?
    public var averageWin: Double?
    public var averageLoss: Double?
    public var profitFactor: Double?
    public var maxDrawdownPercent: Double?
    /// The largest exposure any snapshot recorded, in percent of equity (the seed's 8.2 join sees only trading days).
    public var maxExposurePercent: Double?
    public var totalTrades: Int
    public var maxDailyDrawdownPercent: Double?
    public var dailyDrawdownLimitPercent: Double
    public var exposureLimitPercent: Double
    public var dailyDrawdownLimitExceeded: Bool
    public var exposureLimitExceeded: Bool
    public var circuitBreakerTripped: Bool
    public var containers: [ContainerFigures]
    public var containersProblem: String?
    /// Where the figures came from: the live stack, or (after the stop) the final backup and the archived logs.
    public var source: String
    /// Seed §8.4: incidents of the run.
    public var incidents: Int
    public var mostFrequentErrors: [String]
    public var equity: [SeriesPoint]
    public var dailyDrawdownPercent: [SeriesPoint]

    enum CodingKeys: String, CodingKey {
        case exports, queries, containers, equity, source, incidents
        case generatedAt = "generated_at", runStartedAt = "run_started_at", totalPnl = "total_pnl", winRatePercent = "win_rate_pct"
        case averageWin = "avg_win", averageLoss = "avg_loss", profitFactor = "profit_factor", maxDrawdownPercent = "max_drawdown_pct"
        case maxExposurePercent = "max_exposure_pct", totalTrades = "total_trades", maxDailyDrawdownPercent = "max_daily_drawdown_pct"
        case dailyDrawdownLimitPercent = "daily_drawdown_limit_pct", exposureLimitPercent = "exposure_limit_pct"
        case dailyDrawdownLimitExceeded = "daily_drawdown_limit_exceeded", exposureLimitExceeded = "exposure_limit_exceeded"
        case circuitBreakerTripped = "circuit_breaker_tripped", containersProblem = "containers_problem"
        case mostFrequentErrors = "most_frequent_errors", dailyDrawdownPercent = "daily_drawdown_pct"
    }
}

/// What the post-run reads besides the database: the live stack's containers, or what the stop kept of them.
public enum SystemFiguresSource: Sendable {
    /// The Engine API: restarts, uptime and logs of the running containers.
    case engine
    /// After the stop: the logs the stop archived (one `<service>.log` per container), the crashes the monitor
    /// cycles counted, and the share of cycles that found every container up.
    case archive(logsDirectory: String, crashes: [String: Int], cyclesUp: Int, cycles: Int)
}

/// Runs the post-run analysis against the stack (or, after the stop, a database restored from its final backup)
/// and writes its files.
public struct PostRunner: Sendable {
    public var environment: [String: String]
    /// The database analysed: the stack's, or a scratch one holding the final backup.
    public var postgres: PostgresConfiguration
    public var project: String
    /// When the run started (the last `cdbctl start` record), for uptime and log windows.
    public var runStartedAt: Date?
    public var system: SystemFiguresSource
    public var incidents: Int
    /// Said in the report: which database and logs the figures are from.
    public var source: String

    public init(environment: [String: String], postgres: PostgresConfiguration, project: String, runStartedAt: Date?,
                system: SystemFiguresSource = .engine, incidents: Int = 0, source: String = "the live stack") {
        self.environment = environment
        self.postgres = postgres
        self.project = project
        self.runStartedAt = runStartedAt
        self.system = system
        self.incidents = incidents
        self.source = source
    }

    /// Exports the three tables with COPY into `directory` and gathers every figure.
    public func analyse(exportingTo directory: String, now: Date = Date()) async throws -> PostRunAnalysis {
        try OperatorFiles.createPrivateDirectory(directory)
        let db = try await PostgresConnection(postgres)
        var exports: [PostRunAnalysis.Export] = []
        for (table, file) in [("signals", "signals_export.csv"), ("trades", "trades_export.csv"), ("portfolio_snapshots", "portfolio_export.csv")] {
            let path = directory + "/" + file
            _ = try await db.copyOut("COPY \(table) TO STDOUT WITH CSV HEADER", toFile: path)
            try OperatorFiles.makePrivateFile(path)
            let rows = try await db.query("SELECT COUNT(*) AS n FROM \(table)").first?["n"].flatMap(Int.init) ?? 0
            exports.append(.init(table: table, file: path, rows: rows))
        }
        var queries: [QueryResult] = []
        for query in [RunbookQueries.totalPnl, RunbookQueries.winRate, RunbookQueries.averageWinLoss, RunbookQueries.maxDrawdown,
                      RunbookQueries.totalTradesAndExposure] {
            do {
                let rows = try await db.query(query.sql)
                queries.append(QueryResult(id: query.id, section: query.section, title: query.title, sql: query.sql, columns: rows.columns,
                                           rows: rows.map { row in rows.columns.map { row[$0] } }, error: nil))
            } catch {
                // The seed's win rate divides by COUNT(*): with no trades there is no rate, which is not a failure of the run.
                let divisionByZero = "22012"
                guard error.sqlState == divisionByZero else { throw error }
                queries.append(QueryResult(id: query.id, section: query.section, title: query.title, sql: query.sql, columns: [], rows: [],
                                           error: "no trades, so no win rate (the statement divides by zero)"))
            }
        }
        func value(_ id: String, _ column: String) -> Double? {
            guard let result = queries.first(where: { $0.id == id }), let index = result.columns.firstIndex(of: column) else { return nil }
            return result.rows.first?[index].flatMap(Double.init)
        }
        let figures = try await db.query("""
            SELECT (SELECT COUNT(*) FROM trades) AS trades,
                   (SELECT MAX(total_exposure_pct) FROM portfolio_snapshots) AS max_exposure,
                   (SELECT MAX(daily_drawdown_pct) FROM portfolio_snapshots) AS max_daily_drawdown,
                   (EXISTS (SELECT 1 FROM portfolio_snapshots WHERE trading_state = 'HALTED')
                    OR EXISTS (SELECT 1 FROM risk_events WHERE reason = 'CIRCUIT_BREAKER_HALT')) AS breaker
            """).first
        let series = try await db.query("SELECT extract(epoch FROM timestamp) AS t, equity_usd, daily_drawdown_pct FROM portfolio_snapshots ORDER BY timestamp, id")
        await db.close()

        let drawdownLimit = (Double(environment["MAX_DAILY_DRAWDOWN_PCT"] ?? "") ?? 0.05) * 100
        let exposureLimit = (Double(environment["MAX_TOTAL_EXPOSURE_PCT"] ?? "") ?? 0.30) * 100
        let maxExposure = figures?["max_exposure"].flatMap(Double.init)
        let maxDailyDrawdown = figures?["max_daily_drawdown"].flatMap(Double.init)
        var analysis = PostRunAnalysis(
            generatedAt: now, runStartedAt: runStartedAt, exports: exports, queries: queries,
            totalPnl: value("8.2-total-pnl", "total_pnl"), winRatePercent: value("8.2-win-rate", "win_rate_pct"),
            averageWin: value("8.2-avg-win-loss", "avg_win"), averageLoss: value("8.2-avg-win-loss", "avg_loss"),
            profitFactor: value("8.2-avg-win-loss", "profit_factor"), maxDrawdownPercent: value("8.2-max-drawdown", "max_drawdown_pct"),
            maxExposurePercent: maxExposure, totalTrades: figures?["trades"].flatMap(Int.init) ?? 0,
            maxDailyDrawdownPercent: maxDailyDrawdown, dailyDrawdownLimitPercent: drawdownLimit, exposureLimitPercent: exposureLimit,
            dailyDrawdownLimitExceeded: (maxDailyDrawdown ?? 0) > drawdownLimit, exposureLimitExceeded: (maxExposure ?? 0) > exposureLimit,
            circuitBreakerTripped: figures?["breaker"] == "t", containers: [], containersProblem: nil, source: source, incidents: incidents,
            mostFrequentErrors: [],
            equity: [], dailyDrawdownPercent: [])
        for row in series {
            guard let seconds = row["t"].flatMap(Double.init) else { continue }
            let time = Date(timeIntervalSince1970: seconds)
            if let equity = row["equity_usd"].flatMap(Double.init) { analysis.equity.append(SeriesPoint(time: time, value: equity)) }
            if let drawdown = row["daily_drawdown_pct"].flatMap(Double.init) { analysis.dailyDrawdownPercent.append(SeriesPoint(time: time, value: drawdown)) }
        }
        switch system {
        case .engine: await gatherSystemFigures(into: &analysis, now: now)
        case .archive(let logs, let crashes, let cyclesUp, let cycles):
            gatherArchivedFigures(into: &analysis, logsDirectory: logs, crashes: crashes, cyclesUp: cyclesUp, cycles: cycles)
        }
        return analysis
    }

    /// Seed §8.3 after the stop: errors and warnings from the archived logs (lines since the run started), restarts
    /// from the monitor's crash counts; uptime is the share of cycles that found every container up, the same for all.
    private func gatherArchivedFigures(into analysis: inout PostRunAnalysis, logsDirectory: String, crashes: [String: Int], cyclesUp: Int, cycles: Int) {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: logsDirectory)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
        guard !files.isEmpty else {
            analysis.containersProblem = "no archived logs in \(logsDirectory)"
            return
        }
        let uptime = cycles > 0 ? Double(cyclesUp) / Double(cycles) * 100 : nil
        var errorLines: [String: Int] = [:]
        for file in files {
            let service = String(file.dropLast(".log".count))
            let text = (try? String(contentsOfFile: logsDirectory + "/" + file, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n").map(String.init).filter { line in
                guard let since = runStartedAt, let stamp = line.split(separator: " ", maxSplits: 1).first.flatMap({ dockerTimestamp(String($0)) }) else { return true }
                return stamp >= since
            }
            let errors = lines.filter { $0.contains("ERROR") || $0.contains("CRITICAL") }
            for line in errors { errorLines[Self.withoutTimestamp(line), default: 0] += 1 }
            analysis.containers.append(.init(service: service, state: "stopped (archived)", restarts: crashes[service] ?? 0, uptimePercent: uptime,
                                             errors: errors.count, warnings: lines.filter { $0.contains("WARNING") }.count))
        }
        analysis.mostFrequentErrors = Self.commonest(errorLines)
        if cycles > 0 {
            analysis.containersProblem = "the stack is down: logs from \(logsDirectory); uptime is the share of the \(cycles) monitor cycles that found every container up"
        }
    }

    static func commonest(_ errorLines: [String: Int]) -> [String] {
        errorLines.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(20).map { "\($0.value)× \($0.key)" }
    }

    /// Seed §8.3 from the Engine API: restarts, uptime since the run started, ERROR and WARNING counts, the commonest errors.
    private func gatherSystemFigures(into analysis: inout PostRunAnalysis, now: Date) async {
        do {
            let engine = try DockerEngine(environment: environment, project: project)
            let since = runStartedAt ?? now.addingTimeInterval(-7 * 24 * 3600)
            var errorLines: [String: Int] = [:]
            for container in try await engine.containers() {
                let lines = try await engine.logs(of: container, since: since)
                let errors = lines.filter { $0.contains("ERROR") || $0.contains("CRITICAL") }
                for line in errors { errorLines[Self.withoutTimestamp(line), default: 0] += 1 }
                let started = dockerTimestamp(container.startedAt)
                var uptime: Double?
                if container.state == "running", let started, now > since {
                    uptime = min(100, now.timeIntervalSince(max(started, since)) / now.timeIntervalSince(since) * 100)
                } else if container.state != "running" {
                    uptime = 0
                }
                analysis.containers.append(.init(service: container.service, state: container.state, restarts: container.restartCount,
                                                 uptimePercent: uptime, errors: errors.count,
                                                 warnings: lines.filter { $0.contains("WARNING") }.count))
            }
            analysis.mostFrequentErrors = Self.commonest(errorLines)
        } catch {
            analysis.containersProblem = "\(error)"
        }
    }

    /// Log lines start with Docker's timestamp and the service's own; without them identical errors group together.
    static func withoutTimestamp(_ line: String) -> String {
        var rest = Substring(line)
        for _ in 0..<2 {
            let parts = rest.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].count >= 19, parts[0].contains("T"), parts[0].first?.isNumber == true else { break }
            rest = parts[1]
        }
        return String(rest)
    }

    /// Writes `final-report.md` (from `templates/final-report.md.mustache`), its JSON twin and the charts into `directory`.
    public func write(_ analysis: PostRunAnalysis, templatesDirectory: String, directory: String) throws -> String {
        let templatePath = templatesDirectory + "/final-report.md.mustache"
        guard let text = try? String(contentsOfFile: templatePath, encoding: .utf8) else {
            throw ReportError(message: "cannot read the report template \(templatePath)")
        }
        let template: MustacheTemplate
        do { template = try MustacheTemplate(string: text) } catch {
            throw ReportError(message: "\(templatePath): not a valid Mustache template (\(error))")
        }
        let mask = SecretMask(environment: environment)
        try OperatorFiles.writePrivateText(SVGLineChart(title: "Equity (USD), whole run", points: analysis.equity, format: "%.2f").render(),
                                           to: directory + "/equity.svg", masking: mask)
        try OperatorFiles.writePrivateText(SVGLineChart(title: "Daily drawdown (% of day-start equity), whole run", points: analysis.dailyDrawdownPercent,
                                                        format: "%.2f %%").render(), to: directory + "/drawdown.svg", masking: mask)
        let path = directory + "/final-report.md"
        try OperatorFiles.writePrivateText(template.render(Self.context(analysis)), to: path, masking: mask)
        try OperatorFiles.writePrivateText(String(decoding: try ReportsDirectory.encoder.encode(analysis), as: UTF8.self),
                                           to: directory + "/final-report.json", masking: mask)
        return path
    }

    static func context(_ analysis: PostRunAnalysis) -> [String: Any] {
        func number(_ value: Double?, _ format: String = "%.2f") -> String { value.map { String(format: format, $0) } ?? "n/a" }
        let formatter = ISO8601DateFormatter()
        let uptimes = analysis.containers.compactMap(\.uptimePercent)
        return [
            "start": analysis.runStartedAt.map { formatter.string(from: $0) } ?? "unknown (no cdbctl start on record)",
            "end": formatter.string(from: analysis.generatedAt),
            "duration_days": analysis.runStartedAt.map { String(format: "%.1f", analysis.generatedAt.timeIntervalSince($0) / 86400) } ?? "n/a",
            "total_pnl": number(analysis.totalPnl), "win_rate": number(analysis.winRatePercent, "%.1f"),
            "total_trades": "\(analysis.totalTrades)", "max_drawdown": number(analysis.maxDrawdownPercent),
            "max_exposure": number(analysis.maxExposurePercent), "avg_win": number(analysis.averageWin), "avg_loss": number(analysis.averageLoss),
            "profit_factor": number(analysis.profitFactor),
            "uptime": uptimes.isEmpty ? "n/a" : String(format: "%.1f", uptimes.reduce(0, +) / Double(uptimes.count)),
            "restarts": "\(analysis.containers.map(\.restarts).reduce(0, +))",
            "errors": "\(analysis.containers.map(\.errors).reduce(0, +))",
            "warnings": "\(analysis.containers.map(\.warnings).reduce(0, +))",
            "containers": analysis.containers.map {
                ["service": $0.service, "state": $0.state, "restarts": "\($0.restarts)", "uptime": number($0.uptimePercent, "%.1f"),
                 "errors": "\($0.errors)", "warnings": "\($0.warnings)"]
            },
            "source": analysis.source,
            "incidents": "\(analysis.incidents)",
            "most_frequent_errors": analysis.mostFrequentErrors,
            "drawdown_limit": number(analysis.dailyDrawdownLimitPercent, "%.1f"), "exposure_limit": number(analysis.exposureLimitPercent, "%.1f"),
            "max_daily_drawdown": number(analysis.maxDailyDrawdownPercent),
            "drawdown_exceeded": analysis.dailyDrawdownLimitExceeded ? "YES" : "NO",
            "exposure_exceeded": analysis.exposureLimitExceeded ? "YES" : "NO",
            "breaker_tripped": analysis.circuitBreakerTripped ? "YES" : "NO",
            "exports": analysis.exports.map { ["table": $0.table, "file": URL(fileURLWithPath: $0.file).lastPathComponent, "rows": "\($0.rows)"] },
            "query_errors": analysis.queries.compactMap { query in query.error.map { "\(query.title): \($0)" } },
        ].merging(analysis.containersProblem.map { ["containers_problem": $0] } ?? [:]) { first, _ in first }
    }
}

/// Docker's timestamps (`2026-11-24T10:00:00.123456789Z`) carry fractions of a second; a line written elsewhere
/// may have none.
func dockerTimestamp(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)
}
