import Foundation
import Testing
import TradingCore

@Suite("Orders in flight")
struct PendingOrderTests {
    @Test("an approved BUY not yet filled reserves its room: a second BUY cannot use it too")
    func pendingBuyReservesRoom() throws {
        var engine = RiskEngine(fillModel: frictionlessFills, startedAt: TestClock.dayStart)
        let now = TestClock.at(60)
        let first = engine.evaluate(signal: makeSignal(.buy, price: 50_000, at: now), now: now)
        let order = try #require(first.order)
        #expect(isClose(order.quantity * 50_000, 10_000))  // 10 % of 100,000 at full confidence
        let second = engine.evaluate(signal: makeSignal(.buy, price: 50_000, at: now), now: now)
        #expect(second.rejectionReason == .positionLimit)

        // The result frees the reservation whatever it was: a rejection gives the room back.
        let rejected = OrderResult(
            id: "result-1", orderId: order.id, symbol: "BTCUSDT", side: .buy, status: .rejected,
            requestedQuantity: order.quantity, filledQuantity: 0, fillPrice: nil, fee: 0, slippagePct: 0,
            reason: .stalePrice, message: "stale", eventTime: now, originTickId: order.originTickId)
        _ = engine.apply(fill: rejected, now: now)
        #expect(engine.pendingBuys.isEmpty)
        #expect(engine.evaluate(signal: makeSignal(.buy, price: 50_000, at: now), now: now).order != nil)
    }

    @Test("reservations across symbols count against total exposure")
    func pendingBuysCountAgainstTotalExposure() {
        var engine = RiskEngine(fillModel: frictionlessFills, startedAt: TestClock.dayStart)
        let now = TestClock.at(60)
        for symbol in ["BTCUSDT", "ETHUSDT", "SOLUSDT"] {
            #expect(engine.evaluate(signal: makeSignal(.buy, symbol: symbol, price: 100, at: now), now: now).order != nil)
        }
        // Three 10 % orders in flight fill the 30 % exposure limit.
        #expect(engine.evaluate(signal: makeSignal(.buy, symbol: "XRPUSDT", price: 1, at: now), now: now).rejectionReason == .totalExposureLimit)
    }

    @Test("the slippage and fees of BUYs in flight are charged before the next is sized: both filled stay within the limit")
    func pendingBuysReserveTheirCosts() throws {
        let fills = PaperFillModel()  // real costs: about 0.3 % on half the account
        let limits = RiskLimits(maxPositionPct: 1, maxTotalExposurePct: 1, maxSlippagePct: 0.05)
        var engine = RiskEngine(limits: limits, sizer: PositionSizer(targetPositionPct: 0.5), fillModel: fills, startedAt: TestClock.dayStart)
        let now = TestClock.at(60)
        var orders: [OrderRequest] = []
        for (symbol, price) in [("BTCUSDT", 50_000.0), ("ETHUSDT", 4_000.0)] {
            let order = try #require(engine.evaluate(signal: makeSignal(.buy, symbol: symbol, price: price, at: now), now: now).order)
            orders.append(order)
        }
        for order in orders {
            let result = fills.fill(order, quote: PriceQuote(price: order.referencePrice, time: order.priceTime), now: now)
            #expect(result.status == .filled)
            _ = engine.apply(fill: result, now: now)
        }
        let portfolio = engine.portfolio
        // Uncharged, the first fill's costs would leave the account over 100 % exposed and its cash negative.
        #expect(portfolio.totalExposure <= portfolio.equity * (1 + 1e-12))
        #expect(portfolio.cash >= -1e-6)
        #expect(portfolio.totalExposure >= portfolio.equity * 0.99)  // and the room was used, not left idle
    }
}
