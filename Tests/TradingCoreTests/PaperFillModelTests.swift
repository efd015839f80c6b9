import Foundation
import Testing
import TradingCore

@Suite("Paper fill model")
struct PaperFillModelTests {
    private let model = PaperFillModel()
    private let now = TestClock.at(100)

    private func order(_ side: OrderSide, quantity: Double, maxSlippagePct: Double = 0.01) -> OrderRequest {
        OrderRequest(
            id: "order-1", signalId: "signal-1", symbol: "BTCUSDT", side: side, quantity: quantity,
            referencePrice: 50_000, priceTime: now, maxSlippagePct: maxSlippagePct, reduceOnly: side == .sell,
            eventTime: now, originTickId: "tick-1"
        )
    }

    private func quote(_ price: Double = 50_000, age: TimeInterval = 0) -> PriceQuote {
        PriceQuote(price: price, time: now.addingTimeInterval(-age))
    }

    @Test("a 10,000 USD BUY slips 0.07 % and pays 0.05 % of the fill notional")
    func buyMath() throws {
        let result = model.fill(order(.buy, quantity: 0.2), quote: quote(), now: now)
        #expect(result.status == .filled)
        #expect(isClose(result.slippagePct, 0.0007))                 // 0.0002 + 0.0005 × 10,000 / 10,000
        #expect(isClose(try #require(result.fillPrice), 50_035))     // 50,000 × 1.0007
        #expect(isClose(result.fee, 5.0035))                          // 0.0005 × 0.2 × 50,035
        #expect(result.filledQuantity == 0.2 && result.requestedQuantity == 0.2)
        #expect(result.orderId == "order-1" && result.originTickId == "tick-1" && result.eventTime == now)
        #expect(result.reason == nil && result.message == nil)
    }

    @Test("a 5,000 USD SELL fills below the market by 0.045 %")
    func sellMath() throws {
        let result = model.fill(order(.sell, quantity: 0.1), quote: quote(), now: now)
        #expect(isClose(result.slippagePct, 0.00045))                // 0.0002 + 0.0005 × 0.5
        #expect(isClose(try #require(result.fillPrice), 49_977.5))   // 50,000 × 0.99955
        #expect(isClose(result.fee, 2.498875))                        // 0.0005 × 0.1 × 49,977.5
    }

    @Test("execution cost equals the equity a fill actually consumes", arguments: [OrderSide.buy, .sell])
    func executionCostMatchesBooking(side: OrderSide) {
        var portfolio = Portfolio()
        _ = portfolio.apply(makeFill(.buy, quantity: 1, price: 50_000, at: now))
        let before = portfolio.equity
        let result = model.fill(order(side, quantity: 0.3), quote: quote(), now: now)
        _ = portfolio.apply(result)
        #expect(isClose(before - portfolio.equity, model.executionCost(notional: 15_000, side: side)))
    }

    @Test("a missing or unusable market price is rejected without inventing a fill price", arguments: [nil, 0, -1, Double.nan])
    func rejectsMissingPrice(price: Double?) {
        let result = model.fill(order(.buy, quantity: 0.1), quote: price.map { quote($0) }, now: now)
        #expect(result.status == .rejected)
        #expect(result.reason == .invalidPrice)
        #expect(result.fillPrice == nil && result.filledQuantity == 0 && result.fee == 0)
    }

    @Test("a market price exactly 30 s old fills, 1 ms older is stale")
    func stalenessBoundary() {
        #expect(model.fill(order(.buy, quantity: 0.1), quote: quote(age: 29.999), now: now).status == .filled)
        #expect(model.fill(order(.buy, quantity: 0.1), quote: quote(age: 30), now: now).status == .filled)
        let stale = model.fill(order(.buy, quantity: 0.1), quote: quote(age: 30.001), now: now)
        #expect(stale.status == .rejected && stale.reason == .stalePrice && stale.fillPrice == nil)
    }

    @Test("an order that waited past the staleness limit is rejected even against a fresh market price")
    func waitedOrderIsStale() {
        let later = now.addingTimeInterval(30.001)
        let fresh = PriceQuote(price: 50_000, time: later)
        #expect(model.fill(order(.buy, quantity: 0.1), quote: fresh, now: now.addingTimeInterval(30)).status == .filled)
        let waited = model.fill(order(.buy, quantity: 0.1), quote: fresh, now: later)
        #expect(waited.status == .rejected)
        #expect(waited.reason == .stalePrice)
        #expect(waited.fillPrice == nil)
        #expect(waited.message?.hasPrefix("order was priced 30.001 s ago") == true)
    }

    @Test("slippage exactly at the order maximum fills, any more is rejected")
    func slippageBoundary() {
        #expect(model.fill(order(.buy, quantity: 0.2, maxSlippagePct: 0.0007), quote: quote(), now: now).status == .filled)
        #expect(model.fill(order(.buy, quantity: 0.2, maxSlippagePct: 0.00071), quote: quote(), now: now).status == .filled)
        let rejected = model.fill(order(.buy, quantity: 0.2, maxSlippagePct: 0.00069), quote: quote(), now: now)
        #expect(rejected.status == .rejected && rejected.reason == .slippageLimit && rejected.fillPrice == nil)
        #expect(isClose(rejected.slippagePct, 0.0007))
    }

    @Test("a non-positive quantity is rejected")
    func rejectsZeroQuantity() {
        let result = model.fill(order(.buy, quantity: 0), quote: quote(), now: now)
        #expect(result.status == .rejected && result.reason == .invalidQuantity)
    }
}
