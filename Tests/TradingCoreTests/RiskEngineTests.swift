import Foundation
import Testing
import TradingCore

@Suite("Risk engine")
struct RiskEngineTests {
    private static let nextDay = TestClock.at(86_400)

    /// Engine holding 1 BTC bought at 50,000 without costs at 00:00 (equity 100,000).
    private func holdingOneBTC(limits: RiskLimits = RiskLimits()) -> RiskEngine {
        var engine = RiskEngine(limits: limits, fillModel: frictionlessFills, startedAt: TestClock.dayStart)
        _ = engine.apply(fill: makeFill(.buy, quantity: 1, price: 50_000), now: TestClock.at(0))
        return engine
    }

    @Test("the first event after 00:00 UTC clears DAY_HALTED and resets day-start equity to the equity then")
    func dailyRollover() {
        // Total exposure is lifted so the 1 BTC holding does not block the ETH buy at the end.
        var engine = holdingOneBTC(limits: RiskLimits(maxTotalExposurePct: 1))
        engine.mark(symbol: "BTCUSDT", price: 45_000, at: TestClock.at(82_800))  // 23:00, equity 95,000
        #expect(engine.tradingState == .dayHalted)

        let lastMillisecond = Self.nextDay.addingTimeInterval(-0.001)
        engine.mark(symbol: "BTCUSDT", price: 46_000, at: lastMillisecond)
        #expect(engine.tradingState == .dayHalted)
        let lateBuy = makeSignal(.buy, symbol: "ETHUSDT", price: 3_000, at: lastMillisecond)
        #expect(engine.evaluate(signal: lateBuy, now: lastMillisecond).rejectionReason == .dailyDrawdownHalt)

        engine.mark(symbol: "BTCUSDT", price: 44_000, at: Self.nextDay)
        #expect(engine.tradingState == .active)
        // Day start is the equity at 00:00 from the marks known then (46,000), before this tick's price.
        #expect(engine.dayStartEquity == 96_000)
        #expect(isClose(engine.dailyDrawdownPct, 2_000.0 / 96_000))
        let earlyBuy = makeSignal(.buy, symbol: "ETHUSDT", price: 3_000, at: Self.nextDay)
        #expect(engine.evaluate(signal: earlyBuy, now: Self.nextDay).order != nil)
    }

    @Test("a snapshot after midnight shows the rollover before any event has applied it")
    func snapshotProjectsRollover() {
        var engine = holdingOneBTC()
        engine.mark(symbol: "BTCUSDT", price: 45_000, at: TestClock.at(3_600))
        let snapshot = engine.snapshot(now: Self.nextDay.addingTimeInterval(5))
        #expect(snapshot.tradingState == .active)
        #expect(snapshot.dailyDrawdownPct == 0)
        #expect(engine.tradingState == .dayHalted)
    }

    @Test("HALTED survives the day rollover until an operator reset, which restarts peak tracking")
    func circuitBreakerNeedsReset() {
        var engine = holdingOneBTC(limits: RiskLimits(maxDailyDrawdownPct: 0.5))
        engine.mark(symbol: "BTCUSDT", price: 40_000, at: TestClock.at(3_600))  // −10 %
        #expect(engine.tradingState == .halted)

        engine.mark(symbol: "BTCUSDT", price: 40_000, at: Self.nextDay.addingTimeInterval(60))
        #expect(engine.tradingState == .halted)
        let buy = makeSignal(.buy, price: 40_000, at: Self.nextDay.addingTimeInterval(61))
        #expect(engine.evaluate(signal: buy, now: Self.nextDay.addingTimeInterval(61)).rejectionReason == .circuitBreakerHalt)

        engine.resetCircuitBreaker(at: Self.nextDay.addingTimeInterval(120))
        #expect(engine.tradingState == .active)
        #expect(engine.peakEquity == 90_000)
        #expect(engine.drawdownFromPeakPct == 0)
    }

    @Test("the circuit breaker measures from the all-time peak, not from the starting capital")
    func peakTracksGains() {
        var engine = holdingOneBTC(limits: RiskLimits(maxDailyDrawdownPct: 0.5))
        engine.mark(symbol: "BTCUSDT", price: 60_000, at: TestClock.at(60))  // equity 110,000
        engine.mark(symbol: "BTCUSDT", price: 49_000, at: TestClock.at(120))  // 99,000: −10 % from peak
        #expect(engine.peakEquity == 110_000)
        #expect(engine.tradingState == .halted)
    }

    @Test("reducing orders pass while DAY_HALTED and while HALTED", arguments: [45_000.0, 40_000.0])
    func reducingOrdersAlwaysPass(price: Double) throws {
        var engine = holdingOneBTC()
        engine.mark(symbol: "BTCUSDT", price: price, at: TestClock.at(60))
        #expect(engine.tradingState == (price == 45_000 ? .dayHalted : .halted))
        #expect(engine.evaluate(signal: makeSignal(.buy, price: price, at: TestClock.at(61)), now: TestClock.at(61)).order == nil)
        let order = try #require(engine.evaluate(signal: makeSignal(.sell, price: price, at: TestClock.at(62)), now: TestClock.at(62)).order)
        #expect(order.side == .sell && order.reduceOnly && order.quantity == 1)
    }

    @Test("a SELL without a position is rejected as nothing to reduce")
    func sellWhenFlat() {
        var engine = RiskEngine(startedAt: TestClock.dayStart)
        let signal = makeSignal(.sell, price: 50_000, at: TestClock.at(1))
        #expect(engine.evaluate(signal: signal, now: TestClock.at(1)).rejectionReason == .nothingToReduce)
    }

    @Test("unusable signal prices are rejected and never become marks", arguments: [0, -1, Double.nan, .infinity])
    func rejectsInvalidPrices(price: Double) {
        var engine = RiskEngine(startedAt: TestClock.dayStart)
        let decision = engine.evaluate(signal: makeSignal(.buy, price: price, at: TestClock.at(1)), now: TestClock.at(1))
        #expect(decision.rejectionReason == .invalidPrice)
        #expect(engine.portfolio.marks.isEmpty)
    }

    @Test("an approved order carries the signal's lineage and the freshest real price")
    func orderLineage() throws {
        var engine = RiskEngine(startedAt: TestClock.dayStart)
        engine.mark(makeTick(price: 50_100, at: TestClock.at(20), id: "newer-tick"))
        let signal = makeSignal(.buy, price: 50_000, confidence: 0.5, at: TestClock.at(21), priceTime: TestClock.at(10), id: "sig")
        let order = try #require(engine.evaluate(signal: signal, now: TestClock.at(21)).order)
        #expect(order.signalId == "sig" && order.originTickId == "tick-sig")
        #expect(order.id == EventID.derived(from: "order", "sig"))
        #expect(order.referencePrice == 50_100 && order.priceTime == TestClock.at(20))
        #expect(order.maxSlippagePct == 0.01 && !order.reduceOnly)
        #expect(isClose(order.quantity * order.referencePrice, 5_000))  // 100,000 × 10 % × confidence 0.5
    }

    @Test("apply books fills through the portfolio and returns closed trades")
    func appliesFills() throws {
        var engine = RiskEngine(startedAt: TestClock.dayStart)
        #expect(engine.apply(fill: makeFill(.buy, quantity: 0.1, price: 50_000, fee: 2.5), now: TestClock.at(1)).isEmpty)
        let trade = try #require(engine.apply(fill: makeFill(.sell, quantity: 0.1, price: 51_000, fee: 2.55), now: TestClock.at(2)).first)
        #expect(isClose(trade.pnl, 100 - 2.5 - 2.55))
        #expect(isClose(engine.portfolio.realizedPnl, 94.95))
    }

    @Test("a snapshot reports equity, exposure, drawdowns, PnL and positions")
    func snapshotContents() throws {
        var engine = RiskEngine(startedAt: TestClock.dayStart)
        _ = engine.apply(fill: makeFill(.buy, quantity: 0.2, price: 50_000, fee: 5), now: TestClock.at(1))
        engine.mark(makeTick(price: 49_000, at: TestClock.at(2), id: "tick-49k"))
        let snapshot = engine.snapshot(now: TestClock.at(3))
        // cash 100,000 − 10,000 − 5 = 89,995; position 0.2 × 49,000 = 9,800
        #expect(isClose(snapshot.cash, 89_995))
        #expect(isClose(snapshot.equity, 99_795))
        #expect(isClose(snapshot.totalExposure, 9_800))
        #expect(isClose(snapshot.totalExposurePct, 9_800 / 99_795))
        #expect(isClose(snapshot.dailyDrawdownPct, 205.0 / 100_000))
        #expect(isClose(snapshot.drawdownFromPeakPct, 205.0 / 100_000))
        #expect(isClose(snapshot.unrealizedPnl, -205))
        #expect(snapshot.realizedPnl == 0 && snapshot.openPositions == 1 && snapshot.tradingState == .active)
        #expect(snapshot.originTickId == "tick-49k" && snapshot.eventTime == TestClock.at(3))
        let position = try #require(snapshot.positions.first)
        #expect(position.symbol == "BTCUSDT" && position.side == .long && position.size == 0.2)
        #expect(position.entryPrice == 50_000 && position.currentPrice == 49_000 && isClose(position.unrealizedPnl, -205))
    }

    @Test("counters record approvals and rejections by reason")
    func countsDecisions() {
        var engine = RiskEngine(startedAt: TestClock.dayStart)
        let now = TestClock.at(100)
        _ = engine.evaluate(signal: makeSignal(.buy, price: 50_000, at: now), now: now)
        _ = engine.evaluate(signal: makeSignal(.sell, symbol: "ETHUSDT", price: 3_000, at: now), now: now)
        _ = engine.evaluate(signal: makeSignal(.sell, symbol: "ETHUSDT", price: 3_000, at: now), now: now)
        _ = engine.evaluate(signal: makeSignal(.buy, price: 50_000, at: now, priceTime: TestClock.at(0)), now: now)
        #expect(engine.counters.approved == 1)
        #expect(engine.counters.rejections(for: .nothingToReduce) == 2)
        #expect(engine.counters.rejections(for: .stalePrice) == 1)
        #expect(engine.counters.totalRejected == 3)
    }

    @Test("a position exactly at its limit needs no drift reduction")
    func noDriftAtLimit() {
        var engine = RiskEngine(startedAt: TestClock.dayStart)
        _ = engine.apply(fill: makeFill(.buy, quantity: 0.2, price: 50_000), now: TestClock.at(1))
        engine.mark(symbol: "BTCUSDT", price: 50_000, at: TestClock.at(2))
        #expect(engine.driftReductions(now: TestClock.at(3)).isEmpty)
    }

    @Test("after a rally, drift reductions sell the position back within its limit")
    func driftTrimsPosition() throws {
        var engine = RiskEngine(startedAt: TestClock.dayStart)
        _ = engine.apply(fill: makeFill(.buy, quantity: 0.2, price: 50_000), now: TestClock.at(1))
        engine.mark(makeTick(price: 55_000, at: TestClock.at(2), id: "rally"))  // 11,000 vs limit 10,100
        let orders = engine.driftReductions(now: TestClock.at(3))
        let order = try #require(orders.first)
        #expect(orders.count == 1)
        #expect(order.side == .sell && order.reduceOnly && order.signalId == nil && order.originTickId == "rally")
        // (11,000 − 10,100) / (1 − 0.1 × (0.0005 + 0.01))
        #expect(isClose(order.quantity * 55_000, 900 / (1 - 0.1 * 0.0105)))

        let fill = engine.fillModel.fill(order, quote: engine.portfolio.marks["BTCUSDT"], now: TestClock.at(3))
        _ = engine.apply(fill: fill, now: TestClock.at(3))
        #expect(engine.limits.allowsPosition(notional: engine.portfolio.positionNotional(of: "BTCUSDT"), equity: engine.portfolio.equity))
        #expect(engine.driftReductions(now: TestClock.at(4)).isEmpty)
    }

    @Test("drift reductions trim total exposure pro rata when positions are individually within limits")
    func driftTrimsExposure() {
        var engine = RiskEngine(startedAt: TestClock.dayStart)
        let symbols = ["AUSDT", "BUSDT", "CUSDT", "DUSDT"]
        for symbol in symbols {
            _ = engine.apply(fill: makeFill(.buy, symbol: symbol, quantity: 9_000, price: 1), now: TestClock.at(1))
        }
        let orders = engine.driftReductions(now: TestClock.at(2))
        #expect(orders.map(\.symbol) == symbols)
        #expect(Set(orders.map(\.quantity)).count == 1)
        for order in orders {
            let fill = engine.fillModel.fill(order, quote: engine.portfolio.marks[order.symbol], now: TestClock.at(2))
            _ = engine.apply(fill: fill, now: TestClock.at(2))
        }
        #expect(engine.limits.allowsTotalExposure(engine.portfolio.totalExposure, equity: engine.portfolio.equity))
        #expect(engine.portfolio.totalExposure > 0.29 * engine.portfolio.equity)
    }

    @Test("a persisted and restored engine makes identical decisions afterwards")
    func codableRoundTrip() throws {
        var original = RiskEngine(startedAt: TestClock.dayStart)
        var walk = SyntheticPriceWalk(seed: 11, startPrice: 50_000, symbol: "BTCUSDT")
        func step(_ engine: inout RiskEngine, _ index: Int, price: Double) -> [String] {
            let now = TestClock.at(Double(index))
            engine.mark(symbol: "BTCUSDT", price: price, at: now, tickId: "t\(index)")
            let side: OrderSide = index % 3 == 0 ? .sell : .buy
            let decision = engine.evaluate(signal: makeSignal(side, price: price, confidence: 0.3, at: now, id: "s\(index)"), now: now)
            guard let order = decision.order else { return ["\(decision)"] }
            let fill = engine.fillModel.fill(order, quote: PriceQuote(price: price, time: now), now: now)
            return ["\(decision)"] + engine.apply(fill: fill, now: now).map { "\($0)" }
        }
        for index in 0..<50 { _ = step(&original, index, price: walk.next()) }

        let data = try EventCoding.encoder.encode(original)
        var restored = try EventCoding.makeDecoder(userInfo: [RiskPolicy.decodingKey: original.policy]).decode(RiskEngine.self, from: data)
        #expect(restored == original)

        for index in 50..<150 {
            let price = walk.next()
            #expect(step(&original, index, price: price) == step(&restored, index, price: price))
        }
        #expect(restored == original)
        #expect(restored.snapshot(now: TestClock.at(200)) == original.snapshot(now: TestClock.at(200)))
    }

    @Test("a saved account carries no policy: it decodes only with the settings' policy, and runs by it")
    func savedAccountTakesThePolicy() throws {
        var engine = RiskEngine(startedAt: TestClock.dayStart)
        engine.mark(symbol: "BTCUSDT", price: 50_000, at: TestClock.dayStart)
        let data = try EventCoding.encoder.encode(engine)
        #expect(!String(decoding: data, as: UTF8.self).contains("maxPositionPct"))
        #expect(throws: DecodingError.self) { try EventCoding.decoder.decode(RiskEngine.self, from: data) }

        let tighter = RiskPolicy(limits: RiskLimits(maxPositionPct: 0.05))
        let restored = try EventCoding.makeDecoder(userInfo: [RiskPolicy.decodingKey: tighter]).decode(RiskEngine.self, from: data)
        #expect(restored.limits == tighter.limits)
        #expect(restored.portfolio == engine.portfolio)
        #expect(tighter.changes(since: engine.policy) == ["MAX_POSITION_PCT 0.1 → 0.05"])
    }
}
