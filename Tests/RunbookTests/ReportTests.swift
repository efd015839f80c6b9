import Foundation
import LocalServers
import PostgresClient
import RunReports
import Runbook
import Testing
import TradeStore

/// Three trades in the last 24 hours (+120.50, -40.25, +10.00), one older (+999, outside the window),
    /// two signals today, one open position, and four hourly snapshots.
func reportFixture() async throws -> (EngineFixture, PostgresConnection) {
        let fixture = try await EngineFixture()
        _ = try await TradeStore.open(fixture.executor.stack.postgres)
        let db = try await PostgresConnection(fixture.executor.stack.postgres)
        for (index, pnl, hoursAgo) in [(1, 120.50, 1.0), (2, -40.25, 2.0), (3, 10.00, 3.0), (4, 999.0, 30.0)] {
            try await db.execute("""
                INSERT INTO trades (id, symbol, side, size, entry_price, exit_price, pnl, fees, opened_at, timestamp, order_id, origin_tick_id, schema_version)
                VALUES ($1, 'BTCUSDT', 'SELL', 0.01, 40000, 41000, $2, 0.4, now() - interval '1 day', now() - $3 * interval '1 hour', $1, $1, 1)
                """, ["t\(index)", pnl, hoursAgo])
        }
        for index in 1...2 {
            try await db.execute("""
                INSERT INTO signals (id, symbol, side, confidence, price, strategy, reason, price_time, timestamp, origin_tick_id, schema_version)
                VALUES ($1, 'BTCUSDT', 'BUY', 0.5, 40000, 'momentum', 'test', now(), now() - interval '10 minutes', $1, 1)
                """, ["s\(index)"])
        }
        try await db.execute("""
            INSERT INTO positions (symbol, side, size, entry_price, current_price, unrealized_pnl, status, last_seen_at, snapshot_id)
            VALUES ('ETHUSDT', 'BUY', 1.5, 3000, 3100, 150, 'open', now(), 'p1')
            """)
        for (hour, equity, exposure, drawdown) in [(4, 100_000.0, 10.0, 0.0), (3, 99_500.0, 12.5, 0.5), (2, 100_200.0, 8.0, 0.0), (1, 100_090.25, 9.0, 0.11)] {
            try await db.execute("""
                INSERT INTO portfolio_snapshots (id, timestamp, equity_usd, cash_usd, total_exposure_usd, total_exposure_pct, daily_drawdown_pct,
                    drawdown_from_peak_pct, realized_pnl, unrealized_pnl, open_positions, trading_state, positions, origin_tick_id, schema_version)
                VALUES ($1, now() - $2 * interval '1 hour', $3, 0, 0, $4, $5, 0, 0, 0, 1, 'ACTIVE', '[]', $1, 1)
                """, ["snap\(hour)", Double(hour), equity, exposure, drawdown])
        }
        return (fixture, db)
}

@Suite("Reports (seed §6) and the post-run analysis (§8) from a fixed data set")
struct ReportTests {

    @Test("the daily report's figures are the hand-computed ones, and the Markdown, JSON and charts are written")
    func daily() async throws {
        let (fixture, _) = try await reportFixture()
        let builder = ReportBuilder(environment: fixture.executor.environment, stack: fixture.executor.stack, project: "cdb-report-test")
        let data = try await builder.build(.daily)
        func rows(_ id: String) -> [[String?]] { data.queries.first { $0.id == id }?.rows ?? [] }
        // 6.1 trading statistics: 3 trades, 2 winning, 1 losing, total 90.25, average 30.083…
        let statistics = try #require(rows("6.1-trading-statistics").first)
        #expect(statistics[0] == "3" && statistics[1] == "2" && statistics[2] == "1")
        #expect(Double(statistics[3] ?? "") == 90.25)
        #expect(abs((Double(statistics[4] ?? "") ?? 0) - 30.083333) < 1e-5)
        let signalCounts: [Int] = rows("6.1-signals-per-day").compactMap { $0[1].flatMap { Int($0) } }
        #expect(signalCounts.reduce(0, +) == 2)
        // 6.2 risk metrics: max exposure 12.5 %, equity between 99,500 and 100,200 over the last 24 hours.
        #expect(rows("6.2-risk-metrics").first?.map { $0.flatMap(Double.init) } == [12.5, 99_500, 100_200])
        #expect(rows("6.2-position-analysis").first?.first == "ETHUSDT")
        #expect(rows("6.2-daily-report-trading-stats").first?.map { $0.flatMap(Double.init) } == [3, 90.25])
        #expect(data.equity.map(\.value) == [100_000, 99_500, 100_200, 100_090.25])
        #expect(data.containersProblem?.contains("Docker engine not reachable") == true)

        let output = fixture.directory.appendingPathComponent("reports/daily")
        let path = try ReportWriter(templatesDirectory: repositoryTemplates, outputDirectory: output.path, mask: .urlPasswordsOnly).write(data)
        let markdown = try String(contentsOfFile: path, encoding: .utf8)
        #expect(markdown.contains("| 3 | 2 | 1 | 90.25 |"))
        #expect(markdown.contains("| ETHUSDT | BUY | 1.5 | 3000 | 3100 | 150 |"))
        #expect(markdown.contains("**Container status unavailable:** Docker engine not reachable"))
        #expect(!markdown.contains("&lt;") && !markdown.contains("&#"))
        // Judged on a full day (no run on record): 2 signals, 0 orders, 3 trades, 4 snapshots are far below §4.1's day,
        // 1 open position is within 0–3, and an unreadable container table is no pass.
        let verdicts = Dictionary(uniqueKeysWithValues: data.judgement.items.map { ($0.id, $0.passed) })
        #expect(verdicts == ["containers-healthy": false, "overnight-errors": false, "signals-per-day": false, "orders-per-day": false,
                             "trades-per-day": false, "open-positions": true, "snapshots-per-day": false])
        #expect(!data.judgement.passed && markdown.contains("## Verdict: FAIL"))
        #expect(markdown.contains("| Signals in the last 24 h | 2 | 100–500 | FAIL |"), "\(markdown)")
        #expect(!markdown.contains("nil"))
        // A run started six hours ago expects a quarter of a day's minimum.
        let young = try await builder.build(.evening, runStartedAt: Date().addingTimeInterval(-6 * 3600))
        #expect(young.judgement.items.first { $0.id == "trades-per-day" }?.passed == true, "3 trades ≥ 5 × 6/24 rounded down")
        #expect(young.judgement.items.first { $0.id == "orders-per-day" }?.passed == false)
        let files = try FileManager.default.contentsOfDirectory(atPath: output.path)
        #expect(files.filter { $0.hasSuffix("-equity.svg") || $0.hasSuffix("-drawdown.svg") || $0.hasSuffix(".json") }.count == 3)
        let svg = try String(contentsOf: output.appendingPathComponent(files.first { $0.hasSuffix("-equity.svg") }!), encoding: .utf8)
        #expect(svg.contains("<polyline") && svg.contains("100200.00") && svg.contains("99500.00"))
    }

    @Test("the morning check runs §6.1 only and has no charts; an empty database reports empty windows, not errors")
    func morningOnEmptyDatabase() async throws {
        let fixture = try await EngineFixture()
        _ = try await TradeStore.open(fixture.executor.stack.postgres)
        let data = try await ReportBuilder(environment: fixture.executor.environment, stack: fixture.executor.stack, project: "x").build(.morning)
        #expect(data.queries.map(\.section) == ["6.1", "6.1"])
        #expect(data.queries.allSatisfy { $0.error == nil })
        #expect(data.queries[1].rows.first?[0] == "0")
        #expect(data.equity.isEmpty)
    }
}

extension ReportTests {
    @Test("post-run: the §8.2 figures are the hand-computed ones, the exports hold every row, compliance is judged against the limits")
    func postRun() async throws {
        let (fixture, db) = try await reportFixture()
        let runner = PostRunner(environment: fixture.executor.environment, postgres: fixture.executor.stack.postgres, project: "cdb-postrun-test", runStartedAt: nil)
        let directory = fixture.directory.appendingPathComponent("postrun").path
        let analysis = try await runner.analyse(exportingTo: directory)
        // Trades +120.50, -40.25, +10.00, +999.00.
        #expect(analysis.totalPnl == 1089.25)
        #expect(analysis.winRatePercent == 75)
        #expect(analysis.averageWin == 376.5)
        #expect(analysis.averageLoss == -40.25)
        #expect(abs((analysis.profitFactor ?? 0) - 376.5 / 40.25) < 1e-9)
        // Equity 100,000 → 99,500 → 100,200 → 100,090.25: the deepest fall from a peak is 0.5 %.
        #expect(abs((analysis.maxDrawdownPercent ?? 0) + 0.5) < 1e-9)
        #expect(analysis.maxExposurePercent == 12.5)
        #expect(analysis.totalTrades == 4)
        #expect(!analysis.dailyDrawdownLimitExceeded && !analysis.exposureLimitExceeded && !analysis.circuitBreakerTripped)
        #expect(analysis.exports.map(\.rows) == [2, 4, 4])
        let trades = try String(contentsOfFile: directory + "/trades_export.csv", encoding: .utf8)
        #expect(trades.split(separator: "\n").count == 5)
        #expect(trades.hasPrefix("id,symbol,side,size,entry_price,exit_price,pnl"))

        // A halted snapshot and an exposure beyond 30 % are reported as such.
        try await db.execute("UPDATE portfolio_snapshots SET trading_state = 'HALTED', total_exposure_pct = 31 WHERE id = 'snap1'")
        let breached = try await runner.analyse(exportingTo: directory)
        #expect(breached.circuitBreakerTripped && breached.exposureLimitExceeded && !breached.dailyDrawdownLimitExceeded)

        let report = try runner.write(breached, templatesDirectory: repositoryTemplates, directory: directory)
        let text = try String(contentsOfFile: report, encoding: .utf8)
        #expect(text.contains("- Total PnL: 1089.25 USD"))
        #expect(text.contains("- Win-Rate: 75.0 %"))
        #expect(text.contains("- Circuit-Breaker getriggert: YES"))
        #expect(text.contains("Total Exposure Limit (30.0%) überschritten: YES (max exposure 31.00 %)"))
        #expect(FileManager.default.fileExists(atPath: directory + "/final-report.json"))
    }

    @Test("post-run on a run without trades reports the missing win rate instead of failing")
    func postRunWithoutTrades() async throws {
        let fixture = try await EngineFixture()
        _ = try await TradeStore.open(fixture.executor.stack.postgres)
        let analysis = try await PostRunner(environment: fixture.executor.environment, postgres: fixture.executor.stack.postgres, project: "x", runStartedAt: nil)
            .analyse(exportingTo: fixture.directory.appendingPathComponent("postrun").path)
        #expect(analysis.winRatePercent == nil)
        #expect(analysis.queries.first { $0.id == "8.2-win-rate" }?.error == "no trades, so no win rate (the statement divides by zero)")
        #expect(analysis.totalTrades == 0)
    }
}

let repositoryTemplates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("templates").path

@Suite("cdbctl postrun after the stop: the final backup in a scratch database, the archived logs")
struct PostRunAfterStopTests {
    @Test("with the stack down, postrun restores the final backup, counts the archived logs' errors and marks the run analysed")
    func fromTheArchive() async throws {
        let (fixture, _) = try await reportFixture()
        let project = fixture.directory
        let reports = project.appendingPathComponent("reports")
        // What the stop left: a final backup of the run's database and the archived container logs.
        let backups = reports.appendingPathComponent("backups")
        try FileManager.default.createDirectory(at: backups, withIntermediateDirectories: true)
        let postgres = fixture.executor.stack.postgres
        let dump = try await runCommand("pg_dump", ["-h", postgres.host, "-p", "\(postgres.port)", "-U", postgres.user, "-Fc",
                                                    "-f", backups.appendingPathComponent("final.dump").path, postgres.database],
                                        environment: ["PGPASSWORD": postgres.password ?? "", "PATH": ProcessInfo.processInfo.environment["PATH"] ?? ""],
                                        timeout: .seconds(60))
        #expect(dump.status == 0, "\(dump.output)")
        try recordVerification(ofDump: backups.appendingPathComponent("final.dump"))
        let started = Date().addingTimeInterval(-2 * 86_400)
        let logs = reports.appendingPathComponent("logs/20261202T000000Z")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let stamp = { (date: Date) in ISO8601DateFormatter().string(from: date) }
        try """
            \(stamp(started.addingTimeInterval(-3600))) ERROR before the run (not counted)
            \(stamp(started.addingTimeInterval(3600))) ERROR redis connection lost
            \(stamp(started.addingTimeInterval(7200))) ERROR redis connection lost
            \(stamp(started.addingTimeInterval(7300))) WARNING slow tick
            """.write(to: logs.appendingPathComponent("cdb_core.log"), atomically: true, encoding: .utf8)
        try "\(stamp(started.addingTimeInterval(60))) INFO started\n".write(to: logs.appendingPathComponent("cdb_risk.log"), atomically: true, encoding: .utf8)
        let journal = RunJournal(reportsDirectory: reports.path)
        let running = RunTransitions.started(RunTransitions.go(nil, at: started.addingTimeInterval(-60)), at: started)
        try journal.save(RunTransitions.stopped(RunTransitions.stopping(running, mode: .planned, reason: nil, at: Date()), mode: .planned, at: Date()))
        try """
            version: 1
            phases:
              stop:
                - { id: final-backup, title: Backup, seed: "7.1", check: { type: backup, directory: backups } }
                - { id: archive-logs, title: Logs, seed: "7.1", check: { type: archive_logs, directory: logs } }
            """.write(to: project.appendingPathComponent("runbook.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: project.appendingPathComponent("templates").path, withDestinationPath: repositoryTemplates)
        // The stack's database is gone: a port nothing listens on.
        try "POSTGRES_PORT=\(try freeLoopbackPort())\nPOSTGRES_PASSWORD=\(postgres.password ?? "")\n"
            .write(to: project.appendingPathComponent(".env"), atomically: true, encoding: .utf8)

        let result = try await CDBCtl.run(["postrun"], in: project)
        #expect(result.status == 0, "\(result.output)")
        let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: reports.appendingPathComponent("postrun").path).first)
        let twin = try Data(contentsOf: reports.appendingPathComponent("postrun/\(folder)/final-report.json"))
        let document = try #require(try JSONSerialization.jsonObject(with: twin) as? [String: Any])
        #expect(document["total_trades"] as? Int == 4, "the fixture's four trades, read from the backup")
        #expect((document["source"] as? String)?.contains("final.dump") == true)
        let containers = try #require(document["containers"] as? [[String: Any]])
        let core = try #require(containers.first { $0["service"] as? String == "cdb_core" })
        #expect(core["errors"] as? Int == 2 && core["warnings"] as? Int == 1, "\(core)")
        let markdown = try String(contentsOf: reports.appendingPathComponent("postrun/\(folder)/final-report.md"), encoding: .utf8)
        #expect(markdown.contains("2× ERROR redis connection lost") && !markdown.contains("nil"))
        #expect(journal.current()?.status == .analysed)
    }
}
