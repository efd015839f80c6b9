import Foundation
import LocalServers
import PostgresClient
import TradeStore
import TradingCore
import Testing

@Suite("The runbook's SQL, unchanged, reports true values from persisted events")
struct RunbookQueryTests {
    /// A store holding the fixture, persisted with two order results arriving before their orders.
    private func storeWithFixture() async throws -> (TradeStore, RunbookFixture) {
        let store = try await freshStore()
        let fixture = RunbookFixture()
        let batches = fixture.resultFirstBatches
        let early = try await store.persist(batches[0])
        #expect(early.orderResults == WriteCounts(inserted: 2))
        let rest = try await store.persist(batches[1])
        #expect(rest.orders == WriteCounts(inserted: 2, merged: 2))
        #expect(rest.orderResults == WriteCounts(merged: 1))
        #expect(rest.signals.inserted == 5 && rest.trades.inserted == 5 && rest.portfolioSnapshots.inserted == 6)
        #expect(rest.riskEvents.inserted == 2)
        return (store, fixture)
    }

    @Test("every runbook statement runs without error on the fixture")
    func everyStatementRuns() async throws {
        let (store, _) = try await storeWithFixture()
        #expect(RunbookQueries.all.count == 17)
        for query in RunbookQueries.all {
            do {
                _ = try await store.connection.query(query.sql)
            } catch {
                Issue.record("\(query.id) failed: \(error)")
            }
        }
    }

    @Test("4.1 data growth counts the rows of the five runbook tables")
    func dataGrowth() async throws {
        let (store, _) = try await storeWithFixture()
        let rows = try await store.connection.query(RunbookQueries.dataGrowth.sql)
        var counts: [String: Int] = [:]
        for row in rows { counts[try row.decode("table_name")] = try row.decode("count", as: Int.self) }
        // positions: BTC and ETH open, SOL closed (one row per symbol ever held).
        #expect(counts == ["signals": 5, "orders": 4, "trades": 5, "positions": 3, "portfolio_snapshots": 6])
    }

    @Test("6.1 morning check: signals per UTC day and the last 24 hours' trading statistics")
    func morningCheck() async throws {
        let (store, fixture) = try await storeWithFixture()
        let perDay = try await store.connection.query(RunbookQueries.morningSignalsPerDay.sql)
        var counted: [String: Int] = [:]
        for row in perDay { counted[try row.decode("day")] = try row.decode("signal_count", as: Int.self) }
        // The four signals 1h, 2h, 5h and 23h ago, grouped by the UTC day they fall on (which depends on the clock).
        var expected: [String: Int] = [:]
        for hours in [1.0, 2, 5, 23] { expected[utcDay(fixture.ago(hours: hours)), default: 0] += 1 }
        #expect(counted == expected)

        let stats = try await singleRow(store.connection, RunbookQueries.morningTradingStatistics.sql)
        #expect(try stats.decode("total_trades", as: Int.self) == 3)
        #expect(try stats.decode("winning_trades", as: Int.self) == 2)
        #expect(try stats.decode("losing_trades", as: Int.self) == 1)
        #expect(approximately(try stats.decode("total_pnl", as: Double.self), 120))
        #expect(approximately(try stats.decode("avg_pnl_per_trade", as: Double.self), 40))
    }

    @Test("6.2 evening review: daily PnL, open positions with marks, risk metrics, daily report stats")
    func eveningReview() async throws {
        let (store, fixture) = try await storeWithFixture()
        let db = store.connection

        var pnlByDay: [String: (Double, Int)] = [:]
        for row in try await db.query(RunbookQueries.eveningDailyPnl.sql) {
            pnlByDay[try row.decode("day")] = (try row.decode("daily_pnl"), try row.decode("trades_count"))
        }
        var expectedPnl: [String: (Double, Int)] = [:]
        for (pnl, hours) in [(100.0, 2.0), (-40, 3), (60, 20)] {
            let day = utcDay(fixture.ago(hours: hours))
            expectedPnl[day] = ((expectedPnl[day]?.0 ?? 0) + pnl, (expectedPnl[day]?.1 ?? 0) + 1)
        }
        #expect(pnlByDay.keys.sorted() == expectedPnl.keys.sorted())
        for (day, value) in expectedPnl {
            #expect(approximately(pnlByDay[day]?.0, value.0) && pnlByDay[day]?.1 == value.1, "day \(day)")
        }

        let positions = try await db.query(RunbookQueries.eveningPositionAnalysis.sql)
        #expect(positions.columns == ["symbol", "side", "size", "entry_price", "current_price", "unrealized_pnl"])
        let bySymbol = Dictionary(uniqueKeysWithValues: positions.map { ($0["symbol"] ?? "", $0) })
        #expect(bySymbol.keys.sorted() == ["BTCUSDT", "ETHUSDT"])
        let btc = try #require(bySymbol["BTCUSDT"])
        #expect(btc["side"] == "long")
        #expect(try btc.decode("size", as: Double.self) == 0.01)
        #expect(try btc.decode("entry_price", as: Double.self) == 50_010)
        #expect(try btc.decode("current_price", as: Double.self) == 51_000)
        #expect(try btc.decode("unrealized_pnl", as: Double.self) == 9.4)
        let eth = try #require(bySymbol["ETHUSDT"])
        #expect(try eth.decode("size", as: Double.self) == 0.5 && eth.decode("unrealized_pnl", as: Double.self) == 23)

        let risk = try await singleRow(db, RunbookQueries.eveningRiskMetrics.sql)
        #expect(approximately(try risk.decode("max_exposure_today", as: Double.self), 31))  // percent, not 0.31
        #expect(try risk.decode("min_equity_today", as: Double.self) == 9_900)
        #expect(try risk.decode("max_equity_today", as: Double.self) == 10_300)

        let report = try await singleRow(db, RunbookQueries.dailyReportTradingStats.sql)
        #expect(try report.decode("total_trades", as: Int.self) == 3)
        #expect(approximately(try report.decode("total_pnl", as: Double.self), 120))
    }

    @Test("8.2 post-run metrics: total PnL, win rate, average win and loss, profit factor, max drawdown")
    func postRunMetrics() async throws {
        let (store, _) = try await storeWithFixture()
        let db = store.connection
        #expect(approximately(try await singleRow(db, RunbookQueries.totalPnl.sql).decode("total_pnl", as: Double.self), 100))
        #expect(approximately(try await singleRow(db, RunbookQueries.winRate.sql).decode("win_rate_pct", as: Double.self), 40))

        let averages = try await singleRow(db, RunbookQueries.averageWinLoss.sql)
        #expect(approximately(try averages.decode("avg_win", as: Double.self), 80))
        #expect(approximately(try averages.decode("avg_loss", as: Double.self), -30))
        #expect(approximately(try averages.decode("profit_factor", as: Double.self), 80.0 / 30.0))

        let drawdown = try await singleRow(db, RunbookQueries.maxDrawdown.sql).decode("max_drawdown_pct", as: Double.self)
        #expect(approximately(drawdown, (9_900.0 - 10_200.0) / 10_200.0 * 100))
    }

    @Test("8.2 trades & exposure joins trades to the snapshots of the same UTC day, as written")
    func tradesAndExposure() async throws {
        let (store, fixture) = try await storeWithFixture()
        // The runbook's join yields one row per (trade, snapshot of the same day): COUNT(*) is that pair count,
        // not the number of trades. Worked out here from the fixture, pair by pair.
        var pairs = 0
        var notional = 0.0
        var maxExposure: Double?
        for trade in fixture.trades {
            for snapshot in fixture.snapshots where utcDay(snapshot.eventTime) == utcDay(trade.closedAt) {
                pairs += 1
                notional += trade.size * trade.entryPrice
                maxExposure = max(maxExposure ?? -1, snapshot.totalExposurePct * 100)
            }
        }
        let row = try await singleRow(store.connection, RunbookQueries.totalTradesAndExposure.sql)
        #expect(try row.decode("total_trades", as: Int.self) == pairs)
        if pairs > 0 {
            #expect(approximately(try row.decode("avg_trade_size_usd", as: Double.self), notional / Double(pairs)))
            #expect(approximately(try row.decode("max_exposure_reached", as: Double.self), maxExposure ?? 0))
        } else {
            #expect(row["avg_trade_size_usd"] == nil)
        }
    }

    @Test("10.2 quick queries: open positions, today's trades, equity history, daily PnL, risk metrics")
    func quickQueries() async throws {
        let (store, fixture) = try await storeWithFixture()
        let db = store.connection

        let open = try await db.query(RunbookQueries.openPositions.sql)
        #expect(Set(open.map { $0["symbol"] ?? "" }) == ["BTCUSDT", "ETHUSDT"])
        #expect(open.allSatisfy { $0["status"] == "open" })

        let today = try await db.query(RunbookQueries.tradesLast24Hours.sql)
        #expect(Set(today.map { $0["id"] ?? "" }) == ["trd-1", "trd-2", "trd-3"])
        #expect(today.columns.contains("pnl") && today.columns.contains("entry_price") && today.columns.contains("size"))

        let equity = try await db.query(RunbookQueries.equityHistory.sql)
        #expect(equity.columns == ["timestamp", "equity_usd"])
        #expect(try equity.map { try $0.decode("equity_usd", as: Double.self) } == [10_250, 10_100, 10_300, 9_900, 10_200, 10_000])
        let newest = try #require(equity.first)
        #expect(abs(try newest.decode("timestamp", as: Date.self).timeIntervalSince(fixture.ago(hours: 1))) < 0.001)

        var expectedByDay: [String: Double] = [:]
        for trade in fixture.trades { expectedByDay[utcDay(trade.closedAt), default: 0] += trade.pnl }
        let daily = try await db.query(RunbookQueries.dailyPnl.sql)
        let days = try daily.map { try $0.decode("day", as: String.self) }
        #expect(days == expectedByDay.keys.sorted(by: >))  // ORDER BY day DESC
        for row in daily {
            #expect(approximately(try row.decode("daily_pnl", as: Double.self), expectedByDay[row["day"] ?? ""] ?? .nan))
        }

        let risk = try await singleRow(db, RunbookQueries.riskMetrics.sql)
        #expect(approximately(try risk.decode("max_exposure", as: Double.self), 31))
        #expect(try risk.decode("min_equity", as: Double.self) == 9_900)
        #expect(try risk.decode("max_equity", as: Double.self) == 10_300)
    }

    @Test("on an empty database every statement runs, except the win rate, which divides by COUNT(*) = 0")
    func emptyDatabase() async throws {
        let store = try await freshStore()
        for query in RunbookQueries.all where query != RunbookQueries.winRate {
            do { _ = try await store.connection.query(query.sql) } catch { Issue.record("\(query.id) failed: \(error)") }
        }
        let error = await #expect(throws: PostgresError.self) { try await store.connection.query(RunbookQueries.winRate.sql) }
        #expect(error?.sqlState == "22012")
    }
}
