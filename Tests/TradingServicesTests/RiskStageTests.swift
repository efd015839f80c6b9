import EventBus
import Foundation
import StackContract
import StageTestKit
import Testing
import TradingCore
import TradingServices

@Suite("RiskStage: signals judged against the limits, fills booked, state committed with what goes out")
struct RiskStageTests {
    let bus = InMemoryBus()
    let wall = SettableWallClock(start + 1)

    /// A stage on `bus`; a second one on the same bus is a restart.
    func stage(
        _ clock: TradingClock = .wall, markSaveDelay: Duration = .zero, policy: RiskPolicy = RiskPolicy(), startingCapital: Double = 100_000
    ) async throws -> RiskStage {
        try await RiskStage(
            policy: policy, startingCapital: startingCapital, startedAt: start, clock: clock, snapshotInterval: .seconds(3_600),
            markSaveDelay: markSaveDelay, marketWait: .zero, store: bus, publisher: bus, metrics: StageParts.metrics(),
            logger: StageParts.logger, wallTime: wall.wallTime)
    }

    var savedState: String {
        get async { await bus.savedText(RiskStage.stateKey) }
    }

    @Test("a fresh BUY becomes an order sized within MAX_POSITION_PCT, saved before it is published")
    func buyBecomesOrder() async throws {
        let stage = try await stage()
        try await stage.handleSignals([BusEntry.of(signal("s1", price: 50_000, at: start), id: "1-0")])

        let orders = try await bus.events(OrderRequest.self, on: .orders)
        let order = try #require(orders.first)
        #expect(orders.count == 1)
        #expect(order.signalId == "s1")
        #expect(order.side == .buy)
        #expect(order.referencePrice == 50_000)
        // 10 % of 100,000 USD, less the room the fill's own slippage and fee take.
        let notional = order.quantity * order.referencePrice
        #expect(notional > 9_900 && notional <= 10_000)
        #expect(await bus.entries(on: .riskEvents).isEmpty)
        #expect(await savedState.contains("\"s1\""))
        #expect(await stage.status().approved == 1)
    }

    @Test("a signal priced longer ago than DATA_STALE_TIMEOUT_SEC is rejected on risk_events with its reason")
    func staleSignalRejected() async throws {
        let stage = try await stage()
        wall.advance(by: 30)  // 31 s after the signal's price
        try await stage.handleSignals([BusEntry.of(signal("s1", price: 50_000, at: start), id: "1-0")])

        let rejection = try #require(try await bus.events(RiskRejection.self, on: .riskEvents).first)
        #expect(rejection.signalId == "s1")
        #expect(rejection.reason == .stalePrice)
        #expect(rejection.message == "signal price is 31.000 s old (limit 30.000 s)")
        #expect(await bus.entries(on: .orders).isEmpty)
    }

    @Test("a SELL with nothing held is rejected as nothing to reduce")
    func sellWithoutPosition() async throws {
        let stage = try await stage()
        try await stage.handleSignals([BusEntry.of(signal("s1", .sell, price: 50_000, at: start), id: "1-0")])
        #expect(try await bus.events(RiskRejection.self, on: .riskEvents).map(\.reason) == [.nothingToReduce])
    }

    @Test("a redelivered signal is judged once, also by a restarted stage on the saved state")
    func redeliveryIsRecognised() async throws {
        let first = try await stage()
        let entry = BusEntry.of(signal("s1", price: 50_000, at: start), id: "1-0")
        try await first.handleSignals([entry])
        try await first.handleSignals([entry])
        #expect(await bus.entries(on: .orders).count == 1)

        let restarted = try await stage()
        try await restarted.handleSignals([entry])
        // The same event under a new entry (a feed that published it twice) is recognised by its id.
        try await restarted.handleSignals([BusEntry.of(signal("s1", price: 50_000, at: start), id: "2-0")])
        #expect(await bus.entries(on: .orders).count == 1)
        #expect(await restarted.status().approved == 1)
        #expect(await restarted.status().pendingOrders == 1)
    }

    @Test("a failed commit leaves nothing: the redelivered signal becomes its order then, once")
    func failedCommitIsRedone() async throws {
        let stage = try await stage()
        let entry = BusEntry.of(signal("s1", price: 50_000, at: start), id: "1-0")
        await bus.failNextCommit(with: CancellationError())
        await #expect(throws: CancellationError.self) { try await stage.handleSignals([entry]) }
        #expect(await bus.entries(on: .orders).isEmpty)
        #expect(await stage.status().approved == 0)

        try await stage.handleSignals([entry])
        #expect(await bus.entries(on: .orders).count == 1)
        #expect(await stage.status().approved == 1)
    }

    @Test("a commit stored whose reply was lost is not repeated: the stage rereads its state and skips the redelivery")
    func lostReplyIsNotRepeated() async throws {
        let stage = try await stage()
        let entry = BusEntry.of(signal("s1", price: 50_000, at: start), id: "1-0")
        await bus.loseNextReply(with: CancellationError())
        await #expect(throws: CancellationError.self) { try await stage.handleSignals([entry]) }
        try await stage.handleSignals([entry])
        #expect(await bus.entries(on: .orders).count == 1)
        #expect(await stage.status().approved == 1)
    }

    @Test("a saved state that cannot be read stops the stage instead of trading on a fresh account")
    func unreadableStateRefused() async throws {
        await bus.seedState(RiskStage.stateKey, Array("{not json".utf8))
        let error = await #expect(throws: StageStateError.self) { _ = try await stage() }
        #expect(error?.key == RiskStage.stateKey)
        #expect(error?.reason.contains("DEL the key to start afresh") == true)
    }

    @Test("a state saved before applied positions, policy and snapshot numbers existed still loads, with its account")
    func olderStateLoads() async throws {
        try await stage().handleSignals([BusEntry.of(signal("s1", price: 50_000, at: start), id: "1-0")])
        var saved = try #require(try JSONSerialization.jsonObject(with: Data(await savedState.utf8)) as? [String: Any])
        for key in ["applied", "policyInForce", "snapshotsPublished"] { saved[key] = nil }
        var engine = try #require(saved["engine"] as? [String: Any])
        engine["pendingSells"] = nil
        saved["engine"] = engine
        await bus.seedState(RiskStage.stateKey, Array(try JSONSerialization.data(withJSONObject: saved)))

        let restarted = try await stage()
        #expect(await restarted.status().approved == 1)
        #expect(await restarted.status().pendingOrders == 1)
        // The signal is still recognised by its id.
        try await restarted.handleSignals([BusEntry.of(signal("s1", price: 50_000, at: start), id: "1-0")])
        #expect(await bus.entries(on: .orders).count == 1)
    }

    @Test("a restart under a changed limit enforces it, shows it in /status and says so on alerts")
    func changedLimitApplies() async throws {
        let first = try await stage()
        try await first.handleSignals([BusEntry.of(signal("s1", price: 50_000, at: start), id: "1-0")])
        let tighter = RiskPolicy(limits: RiskLimits(maxPositionPct: 0.05, maxTotalExposurePct: 0.15))
        let restarted = try await stage(policy: tighter)
        #expect(await restarted.status().limits == tighter.limits)
        let changes = try await bus.alerts().filter { $0["kind"] == "settings_changed" }.compactMap { $0["message"] }
        #expect(changes.count == 1)
        #expect(changes.first?.contains("MAX_POSITION_PCT 0.1 → 0.05") == true)
        #expect(changes.first?.contains("MAX_TOTAL_EXPOSURE_PCT 0.3 → 0.15") == true)

        try await restarted.handleSignals([BusEntry.of(signal("s2", symbol: "ETHUSDT", price: 2_000, at: start), id: "2-0")])
        let order = try #require(try await bus.events(OrderRequest.self, on: .orders).last)
        #expect(order.signalId == "s2")
        #expect(order.quantity * order.referencePrice <= 5_000)

        // Started again under the same settings: nothing more to announce.
        _ = try await stage(policy: tighter)
        #expect(try await bus.alerts().filter { $0["kind"] == "settings_changed" }.count == 1)
    }

    @Test("a changed starting capital with a saved account is refused, naming the reset")
    func changedCapitalRefused() async throws {
        try await stage().handleSignals([BusEntry.of(signal("s1", price: 50_000, at: start), id: "1-0")])
        let error = await #expect(throws: StageStateError.self) { _ = try await stage(startingCapital: 50_000) }
        #expect(error?.reason.contains("started with 100000.00 USD but STARTING_CAPITAL_USD is 50000.00") == true)
        #expect(error?.reason.contains("cdbctl risk reset-account --yes") == true)
    }

    @Test("marks alone are saved only after MARK_SAVE_INTERVAL_MS or at a graceful stop; a decision at once")
    func marksSaveLate() async throws {
        let stage = try await stage(markSaveDelay: .seconds(3_600))
        try await stage.handleMarketData([BusEntry.of(tick("t1", 51_234, at: start), id: "1-0")])
        #expect(await bus.commits == 0)
        try await stage.flush()
        #expect(await bus.commits == 1)
        #expect(await savedState.contains("51234"))

        try await stage.handleSignals([BusEntry.of(signal("s1", price: 51_234, at: start), id: "1-0")])
        #expect(await bus.commits == 2)
    }

    @Test("a position drifted past its limit is trimmed by one SELL, not one more per tick while it is in flight")
    func driftReductionOnceInFlight() async throws {
        let stage = try await stage(.market)
        try await stage.handleMarketData([BusEntry.of(tick("t1", 100, at: start), id: "1-0")])
        try await stage.handleSignals([BusEntry.of(signal("s1", price: 100, at: start), id: "1-0")])
        let bought = try #require(try await bus.events(OrderRequest.self, on: .orders).first)
        let fill = PaperFillModel().fill(bought, quote: PriceQuote(price: 100, time: start), now: start)
        try await stage.handleResults([BusEntry.of(fill, id: "1-0")])

        // Up 50 %: about 14 % of equity, past MAX_POSITION_PCT's 10 %. cdb_execution is away: no result comes.
        for second in 1...5 {
            try await stage.handleMarketData([BusEntry.of(tick("t\(second + 1)", 150, at: start + Double(second)), id: "\(second + 1)-0")])
        }
        let sells = try await bus.events(OrderRequest.self, on: .orders).filter { $0.side == .sell }
        #expect(sells.count == 1)
        #expect(await stage.status().pendingOrders == 1)

        // A SELL signal meanwhile sells only what the reduction leaves.
        try await stage.handleSignals([BusEntry.of(signal("s2", .sell, price: 150, at: start + 5), id: "2-0")])
        let closing = try #require(try await bus.events(OrderRequest.self, on: .orders).last)
        #expect(closing.signalId == "s2")
        #expect(abs(closing.quantity + sells[0].quantity - fill.filledQuantity) < 1e-9)
    }

    @Test("two snapshots of one instant get two ids")
    func snapshotIdsDiffer() async throws {
        let stage = try await stage(.market)
        try await stage.handleMarketData([BusEntry.of(tick("t1", 100, at: start), id: "1-0")])
        try await stage.handleSignals([
            BusEntry.of(signal("s1", price: 100, at: start), id: "1-0"),
            BusEntry.of(signal("s2", symbol: "ETHUSDT", price: 100, at: start), id: "2-0"),
        ])
        let orders = try await bus.events(OrderRequest.self, on: .orders)
        let fills = orders.map { PaperFillModel().fill($0, quote: PriceQuote(price: 100, time: start), now: start) }
        try await stage.handleResults(fills.enumerated().map { BusEntry.of($1, id: "\($0 + 1)-0") })
        let snapshots = try await bus.events(PortfolioSnapshot.self, on: .portfolioSnapshots)
        #expect(snapshots.count == 2)
        #expect(Set(snapshots.map(\.id)).count == 2)
    }

    @Test("by the wall clock, tick() publishes a portfolio snapshot on each SNAPSHOT_INTERVAL_SEC boundary")
    func snapshotsOnTheHour() async throws {
        let stage = try await stage()
        try await stage.tick()  // 22:13:21: the first boundary is 23:00
        #expect(await bus.entries(on: .portfolioSnapshots).isEmpty)
        wall.advance(by: 2_798)  // 22:59:59
        try await stage.tick()
        #expect(await bus.entries(on: .portfolioSnapshots).isEmpty)
        wall.advance(by: 1)
        try await stage.tick()
        let snapshots = try await bus.events(PortfolioSnapshot.self, on: .portfolioSnapshots)
        #expect(snapshots.map(\.eventTime) == [start + 2_800])
        #expect(snapshots.first?.equity == 100_000)
    }

    @Test("a daily drawdown past MAX_DAILY_DRAWDOWN_PCT blocks new BUYs until 00:00 UTC, with an alert at each change")
    func dailyDrawdownHaltsUntilMidnight() async throws {
        let stage = try await stage(.market)
        try await stage.handleMarketData([BusEntry.of(tick("t1", 100, at: start), id: "1-0")])
        try await stage.handleSignals([BusEntry.of(signal("s1", price: 100, at: start), id: "1-0")])
        let bought = try #require(try await bus.events(OrderRequest.self, on: .orders).first)
        let fill = PaperFillModel().fill(bought, quote: PriceQuote(price: 100, time: start), now: start)
        try await stage.handleResults([BusEntry.of(fill, id: "1-0")])
        #expect(try await bus.events(PortfolioSnapshot.self, on: .portfolioSnapshots).last?.openPositions == 1)

        // About 10 % of equity held, down 60 %: a 6 % day, past the 5 % limit, short of the 10 % breaker.
        try await stage.handleMarketData([BusEntry.of(tick("t2", 40, at: start + 60), id: "2-0")])
        #expect(await stage.status().tradingState == "DAY_HALTED")
        try await stage.handleSignals([BusEntry.of(signal("s2", price: 40, at: start + 60), id: "2-0")])
        #expect(try await bus.events(RiskRejection.self, on: .riskEvents).map(\.reason) == [.dailyDrawdownHalt])

        try await stage.handleMarketData([BusEntry.of(tick("t3", 40, at: nextMidnight + 1), id: "3-0")])
        #expect(await stage.status().tradingState == "ACTIVE")
        try await stage.handleSignals([BusEntry.of(signal("s3", price: 40, at: nextMidnight + 1), id: "3-0")])
        #expect(try await bus.events(OrderRequest.self, on: .orders).map(\.signalId) == ["s1", "s3"])

        let changes = try await bus.alerts().filter { $0["kind"] == "trading_state" }.compactMap { $0["message"] }
        #expect(changes.count == 2)
        #expect(changes.first?.hasPrefix("trading state ACTIVE → DAY_HALTED") == true)
        #expect(changes.last?.hasPrefix("trading state DAY_HALTED → ACTIVE") == true)
    }
}
