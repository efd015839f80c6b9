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
}
