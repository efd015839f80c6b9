import Foundation
import LocalServers
import PostgresClient
import Testing
import TradeStore
import TradingCore
import YAMLParser

@Suite("Grafana dashboard")
struct DashboardSQLTests {
    @Test("the dashboard has the runbook's uid and six panels, ids 1–6, each on a provisioned data source")
    func panelsAndDataSources() throws {
        let dashboard = try StackFiles.dashboard()
        #expect(dashboard.uid == "claire-paper-trading")
        #expect(dashboard.panels.map(\.id) == [1, 2, 3, 4, 5, 6])
        #expect(dashboard.panels.map(\.title) == [
            "Equity Curve", "Daily Drawdown", "Total Exposure", "Open Positions", "Trade Count per day", "Win Rate",
        ])
        let provisioned = try StackFiles.yaml("grafana/provisioning/datasources/datasources.yml")
        var sources: [String: String] = [:]
        if let list = provisioned["datasources"], case .sequence(let items) = list.kind {
            for item in items { if let uid = item["uid"]?.scalar, let type = item["type"]?.scalar { sources[uid] = type } }
        }
        #expect(sources == ["cdb-prometheus": "prometheus", "cdb-postgres": "postgres"])
        for panel in dashboard.panels {
            for target in panel.targets {
                #expect(sources[target.datasource.uid] == target.datasource.type, "panel \(panel.id) target \(target.refId)")
                #expect((target.rawSql != nil) == (target.datasource.type == "postgres"), "panel \(panel.id): SQL exactly on PostgreSQL")
                #expect((target.expr != nil) == (target.datasource.type == "prometheus"), "panel \(panel.id): PromQL exactly on Prometheus")
            }
        }
    }

    @Test("every panel's SQL runs on the migrated schema and shows what the stored events say")
    func panelSQL() async throws {
        let server = try await SharedServers.postgres()
        let database = try await server.createDatabase()
        let store = try await TradeStore.open(database)
        let now = Date()
        _ = try await store.persist(Self.history(now: now))

        let db = try await PostgresConnection(database)
        var results: [Int: PostgresRows] = [:]
        for panel in try StackFiles.dashboard().panels {
            for target in panel.targets {
                guard let sql = target.rawSql else { continue }
                let expanded = try Self.expandingMacros(sql, panel: panel.id)
                do {
                    results[panel.id] = try await db.query(expanded)
                } catch {
                    Issue.record("panel \(panel.id) (\(panel.title)): \(error)\n\(expanded)")
                }
            }
        }
        #expect(results[1]?.count == 2, "Equity Curve: one point per snapshot")
        #expect(results[1]?.first?["equity"] == "100000")
        #expect(results[4]?.map { $0["symbol"] } == ["BTCUSDT"], "Open Positions: the newest snapshot's position")
        #expect(results[5]?.reduce(0) { $0 + (Int($1["trades"] ?? "") ?? 0) } == 3, "Trade Count per day: three trades")
        let winRate = results[6]?.first?["win_rate"].flatMap(Double.init)
        #expect(winRate.map { abs($0 - 200.0 / 3) < 1e-9 } == true, "Win Rate: two of three trades won, got \(String(describing: winRate))")
    }

    /// Grafana's `$__timeFilter(column)` as Grafana expands it for the dashboard's default range (7 days);
    /// any other macro is an error, so the test never runs SQL it did not understand.
    static func expandingMacros(_ sql: String, panel: Int) throws -> String {
        let expanded = sql.replacing(/\$__timeFilter\((\w+)\)/) { match in
            "\(match.output.1) BETWEEN now() - interval '7 days' AND now()"
        }
        if expanded.contains("$") {
            throw StackFileError("panel \(panel): a Grafana macro or variable this test does not expand: \(expanded)")
        }
        return expanded
    }

    /// Two snapshots (the newer one holding BTCUSDT) and three trades, two of them winners.
    static func history(now: Date) -> [StoredEvent] {
        let position = PositionSnapshot(symbol: "BTCUSDT", size: 0.1, entryPrice: 50_000, currentPrice: 50_500, unrealizedPnl: 50)
        let snapshots = [(now - 7_200, 100_000.0, [PositionSnapshot]()), (now - 3_600, 100_050.0, [position])]
            .enumerated().map { index, spec in
                StoredEvent.portfolioSnapshot(PortfolioSnapshot(
                    id: "snap-\(index)", eventTime: spec.0, originTickId: "tick-s\(index)", equity: spec.1, cash: spec.1 - 5_050,
                    totalExposure: 5_050, totalExposurePct: 0.05, dailyDrawdownPct: 0, drawdownFromPeakPct: 0,
                    realizedPnl: 0, unrealizedPnl: 50, openPositions: spec.2.count, tradingState: .active, positions: spec.2))
            }
        let trades = [30.0, -10, 5].enumerated().map { index, pnl in
            StoredEvent.trade(ClosedTrade(
                id: "trd-\(index)", symbol: "ETHUSDT", size: 1, entryPrice: 3_000, exitPrice: 3_000 + pnl + 1, pnl: pnl, fees: 1,
                openedAt: now - 5_000, closedAt: now - 4_000 + Double(index), orderId: "ord-\(index)", originTickId: "tick-t\(index)"))
        }
        return snapshots + trades
    }
}
