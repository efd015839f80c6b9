import Foundation
import Testing
import TradingCore

@Suite("Position sizing")
struct PositionSizerTests {
    private let sizer = PositionSizer()
    private let limits = RiskLimits()

    /// A portfolio holding the given USD notionals, bought at price 1 so notionals are exact.
    private func holding(_ notionals: [String: Double]) -> Portfolio {
        var portfolio = Portfolio()
        for (symbol, notional) in notionals.sorted(by: { $0.key < $1.key }) {
            _ = portfolio.apply(makeFill(.buy, symbol: symbol, quantity: notional, price: 1))
        }
        return portfolio
    }

    private func buy(
        _ symbol: String = "NEWUSDT",
        confidence: Double = 1,
        price: Double = 1,
        in portfolio: Portfolio,
        fills: PaperFillModel = frictionlessFills
    ) -> SizingOutcome {
        sizer.size(side: .buy, symbol: symbol, confidence: confidence, price: price, portfolio: portfolio, limits: limits, fillModel: fills)
    }

    @Test("a BUY targets equity × maxPositionPct × confidence")
    func scalesWithConfidence() {
        #expect(buy(in: holding([:])) == .order(quantity: 10_000, notional: 10_000))
        #expect(buy(confidence: 0.5, price: 50_000, in: holding([:])) == .order(quantity: 0.1, notional: 5_000))
        #expect(isClose(buy(confidence: 7, in: holding([:])).notional ?? -1, 10_000))
    }

    @Test("a BUY is cut to the room left under the position limit")
    func capsByPosition() {
        #expect(isClose(buy("BTCUSDT", in: holding(["BTCUSDT": 6_000])).notional ?? -1, 4_000))
    }

    @Test("a BUY is cut to the room left under the total exposure limit")
    func capsByTotalExposure() {
        #expect(isClose(buy(in: holding(["AUSDT": 10_000, "BUSDT": 10_000, "CUSDT": 5_000])).notional ?? -1, 5_000))
    }

    @Test("room below the minimum notional is rejected with the limit that binds")
    func rejectsBelowMinimum() {
        #expect(buy("BTCUSDT", in: holding(["BTCUSDT": 9_995])).rejectionReason == .positionLimit)
        #expect(buy(in: holding(["AUSDT": 10_000, "BUSDT": 10_000, "CUSDT": 9_995])).rejectionReason == .totalExposureLimit)
        #expect(buy(confidence: 0.0005, in: holding([:])).rejectionReason == .belowMinimumNotional)
        #expect(isClose(buy(confidence: 0.001, in: holding([:])).notional ?? -1, 10))
    }

    @Test("with slippage and fees the cap leaves the filled position exactly at the limit")
    func capIncludesExecutionCost() throws {
        let fills = PaperFillModel()
        let price = 50_000.0
        var portfolio = holding([:])
        portfolio.mark(symbol: "BTCUSDT", quote: PriceQuote(price: price, time: TestClock.at(0)))
        guard case let .order(quantity, notional) = buy("BTCUSDT", price: price, in: portfolio, fills: fills) else {
            Issue.record("expected an order")
            return
        }
        #expect(notional < 10_000)
        let order = OrderRequest(
            id: "o", signalId: "s", symbol: "BTCUSDT", side: .buy, quantity: quantity, referencePrice: price,
            priceTime: TestClock.at(0), maxSlippagePct: 0.01, reduceOnly: false, eventTime: TestClock.at(0), originTickId: "t"
        )
        _ = portfolio.apply(fills.fill(order, quote: PriceQuote(price: price, time: TestClock.at(0)), now: TestClock.at(0)))
        #expect(isClose(portfolio.positionNotional(of: "BTCUSDT"), 0.1 * portfolio.equity, tolerance: 1e-10))
        #expect(limits.allowsPosition(notional: portfolio.positionNotional(of: "BTCUSDT"), equity: portfolio.equity))
    }

    @Test("a SELL sizes to the whole long position")
    func sellClosesAll() {
        let portfolio = holding(["BTCUSDT": 1_234.5])
        let outcome = sizer.size(side: .sell, symbol: "BTCUSDT", confidence: 0.1, price: 2, portfolio: portfolio, limits: limits, fillModel: frictionlessFills)
        #expect(outcome == .order(quantity: 1_234.5, notional: 2_469))
    }

    @Test("a SELL with no position is rejected as nothing to reduce")
    func sellWhenFlat() {
        let outcome = sizer.size(side: .sell, symbol: "BTCUSDT", confidence: 1, price: 2, portfolio: holding(["ETHUSDT": 100]), limits: limits, fillModel: frictionlessFills)
        #expect(outcome.rejectionReason == .nothingToReduce)
    }
}
