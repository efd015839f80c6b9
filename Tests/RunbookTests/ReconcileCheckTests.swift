import ChildProcesses
import Foundation
import Hummingbird
import PostgresClient
import Runbook
import ServiceHost
import StackContract
import Testing
import TradeStore
import TradingCore

/// What a loopback cdb_risk serves on `/status`; a test changes it between runs.
actor RiskStatusBoard {
    var status: RiskStatus

    init(_ status: RiskStatus) {
        self.status = status
    }

    func post(_ status: RiskStatus) {
        self.status = status
    }
}

/// A paper account traded by TradingCore's risk engine (cdb_risk's accounting): the events it sent, stored by the
/// writer's own path into a migrated database, and its `/status` document.
struct TradedAccount {
    static let start = Date(timeIntervalSince1970: 1_796_000_000)
    var engine = RiskEngine(startingCapital: 100_000, startedAt: start)
    var events: [StoredEvent] = []
    var now = start

    mutating func fill(_ side: OrderSide, _ symbol: String, _ quantity: Double, at price: Double, fee: Double) {
        now += 60
        let id = "order-\(events.count)"
        let order = OrderRequest(id: id, signalId: nil, symbol: symbol, side: side, quantity: quantity, referencePrice: price, priceTime: now,
                                 maxSlippagePct: 0.01, reduceOnly: side == .sell, eventTime: now, originTickId: "tick-" + id)
        let result = OrderResult(id: "result-" + id, orderId: id, symbol: symbol, side: side, status: .filled, requestedQuantity: quantity,
                                 filledQuantity: quantity, fillPrice: price, fee: fee, slippagePct: 0.0001, reason: nil, message: nil,
                                 eventTime: now, originTickId: order.originTickId)
        events += [.order(order), .orderResult(result)]
        events += engine.apply(fill: result, now: now).map(StoredEvent.trade)
        // cdb_risk sends a snapshot after every fill.
        events.append(.portfolioSnapshot(engine.snapshot(now: now.addingTimeInterval(0.5))))
    }

    /// Two symbols bought, one partly and one wholly sold.
    static func traded() -> TradedAccount {
        var account = TradedAccount()
        account.fill(.buy, "BTCUSDT", 0.25, at: 40_000, fee: 5)
        account.fill(.buy, "ETHUSDT", 2, at: 3_000, fee: 3)
        account.fill(.sell, "BTCUSDT", 0.1, at: 41_000, fee: 2.05)
        account.fill(.sell, "ETHUSDT", 2, at: 3_100, fee: 3.1)
        return account
    }

    /// As cdb_risk's `/status` shows the account.
    var status: RiskStatus {
        let portfolio = engine.portfolio
        return RiskStatus(equity: portfolio.equity, cash: portfolio.cash, dailyDrawdown: engine.dailyDrawdownPct,
                          drawdownFromPeak: engine.drawdownFromPeakPct, totalExposurePct: portfolio.totalExposure / portfolio.equity,
                          tradingState: engine.tradingState.rawValue, openPositions: engine.snapshot(now: now).positions, pendingOrders: 0,
                          limits: engine.limits, approved: 4, rejected: 0, clock: "wall", time: now)
    }
}

/// Runs `body` with a loopback cdb_risk serving `board`'s document, encoded as the services encode `/status`.
func withRiskStatus<Result: Sendable>(_ board: RiskStatusBoard, _ body: (Int) async throws -> Result) async throws -> Result {
    let router = Router()
    router.get("status") { _, _ in ServiceEndpoints.json(await board.status, status: .ok) }
    let (ports, announce) = AsyncStream<Int>.makeStream()
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                          onServerRunning: { channel in announce.yield(channel.localAddress?.port ?? 0) })
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.runService() }
        defer { group.cancelAll() }
        var iterator = ports.makeAsyncIterator()
        return try await body(try #require(await iterator.next()))
    }
}

@Suite("The reconcile check against real PostgreSQL and a loopback cdb_risk")
struct ReconcileCheckTests {
    static let step = """
          - { id: books, title: Books, seed: "4.1", check: { type: reconcile } }
    """

    @Test("books stored by the writer's path and cdb_risk's status agree; a status with 5 USD more cash is named with the figures")
    func agreeingThenChangedStatus() async throws {
        let account = TradedAccount.traded()
        let board = RiskStatusBoard(account.status)
        let (agreeing, changed) = try await withRiskStatus(board) { port in
            let fixture = try await EngineFixture(environment: ["CDB_RISK_PORT": "\(port)"])
            let store = try await TradeStore.open(fixture.executor.stack.postgres)
            _ = try await store.persist(account.events)
            let agreeing = try #require(try await fixture.run(Self.step)["books"])
            var status = account.status
            status.cash += 5
            await board.post(status)
            return (agreeing, try #require(try await fixture.run(Self.step)["books"]))
        }
        #expect(agreeing.status == .pass, "\(agreeing.detail)")
        #expect(agreeing.detail.hasPrefix("books agree: 4 fills (2 BUY, 2 SELL), 2 trades; cash "), "\(agreeing.detail)")
        #expect(agreeing.detail.contains("BTCUSDT 0.15000000 (status and the snapshot of 2026-11-30T00:57:20Z agree"), "\(agreeing.detail)")
        #expect(changed.status == .fail)
        let cash = account.engine.portfolio.cash
        #expect(changed.detail == "cash: fills \(String(format: "%.2f", cash)) USD, status \(String(format: "%.2f", cash + 5)) (+5.00), "
            + "snapshot \(String(format: "%.2f", cash)) (+0.00); allowed ±0.01", "\(changed.detail)")
        #expect(changed.figures["cash.status"] == cash + 5)
    }

    @Test("a fresh stack passes: no fills yet, cash is the starting capital")
    func freshStack() async throws {
        let board = RiskStatusBoard(TradedAccount().status)
        let result = try await withRiskStatus(board) { port in
            let fixture = try await EngineFixture(environment: ["CDB_RISK_PORT": "\(port)"])
            _ = try await TradeStore.open(fixture.executor.stack.postgres)
            return try #require(try await fixture.run(Self.step)["books"])
        }
        #expect(result.status == .pass, "\(result.detail)")
        #expect(result.detail == "no fills yet; cash = starting capital 100000.00 USD (status agrees; no snapshot stored yet)")
    }

    @Test("after cdbctl risk reset-account the old account's fills stay in the tables but no longer count")
    func resetAccount() async throws {
        let board = RiskStatusBoard(TradedAccount().status)
        let result = try await withRiskStatus(board) { port in
            let fixture = try await EngineFixture(environment: ["CDB_RISK_PORT": "\(port)"])
            let store = try await TradeStore.open(fixture.executor.stack.postgres)
            _ = try await store.persist(TradedAccount.traded().events)
            let deleted = StepResult(id: "account-deleted", title: "deleted", seed: "5.4", severity: .critical, status: .pass, detail: "",
                                     attempts: 1, startedAt: Date(), durationMs: 1, figures: [:], playbook: nil)
            try ReportsDirectory(path: fixture.executor.reportsDirectory)
                .save(PhaseRecord(phase: .resetAccount, verdict: .pass, startedAt: Date(), finishedAt: Date(), results: [deleted]))
            return try #require(try await fixture.run(Self.step)["books"])
        }
        #expect(result.status == .pass, "\(result.detail)")
        #expect(result.detail.hasPrefix("no fills yet; cash = starting capital 100000.00 USD"), "\(result.detail)")
    }

    @Test("cdb_risk not answering fails, naming its /status and port — never a pass")
    func statusServerDown() async throws {
        let port = try freeLoopbackPort()
        let fixture = try await EngineFixture(environment: ["CDB_RISK_PORT": "\(port)"])
        _ = try await TradeStore.open(fixture.executor.stack.postgres)
        let result = try #require(try await fixture.run(Self.step)["books"])
        #expect(result.status == .fail)
        #expect(result.detail.hasPrefix("cdb_risk's /status cannot be read: http://127.0.0.1:\(port)/status: "), "\(result.detail)")
    }

    @Test("PostgreSQL not answering fails, naming the books it could not read and where")
    func databaseDown() async throws {
        let board = RiskStatusBoard(TradedAccount().status)
        let port = try freeLoopbackPort()
        let result = try await withRiskStatus(board) { riskPort in
            let fixture = try await EngineFixture(environment: ["CDB_RISK_PORT": "\(riskPort)", "POSTGRES_PORT": "\(port)"])
            return try #require(try await fixture.run(Self.step)["books"])
        }
        #expect(result.status == .fail)
        #expect(result.detail.hasPrefix("the books in PostgreSQL (orders, trades, portfolio_snapshots) cannot be read: postgres 127.0.0.1:\(port)/"), "\(result.detail)")
    }
}
