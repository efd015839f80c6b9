import Foundation
import Testing
import TradingCore

@Suite("Portfolio accounting")
struct PortfolioTests {
    /// Buys 1 @ 100 (fee 0.05) and 3 @ 200 (fee 0.30): 4 units at an average of 175.
    private func accumulated() -> Portfolio {
        var portfolio = Portfolio()
        _ = portfolio.apply(makeFill(.buy, symbol: "ETHUSDT", quantity: 1, price: 100, fee: 0.05, at: TestClock.at(0)))
        _ = portfolio.apply(makeFill(.buy, symbol: "ETHUSDT", quantity: 3, price: 200, fee: 0.30, at: TestClock.at(60)))
        return portfolio
    }

    @Test("BUY fills average the entry price and charge price and fee in cash")
    func averagesEntries() throws {
        let portfolio = accumulated()
        let position = try #require(portfolio.position(of: "ETHUSDT"))
        #expect(position.size == 4)
        #expect(position.entryPrice == 175)
        #expect(position.openedAt == TestClock.at(0))
        #expect(isClose(position.openEntryFees, 0.35))
        #expect(isClose(portfolio.cash, 100_000 - 100 - 0.05 - 600 - 0.30))
        #expect(isClose(portfolio.feesPaid, 0.35))
        #expect(portfolio.realizedPnl == 0)
    }

    @Test("a partial close realizes PnL net of the exit fee and the pro-rata entry fee")
    func partialClose() throws {
        var portfolio = accumulated()
        let trades = portfolio.apply(makeFill(.sell, symbol: "ETHUSDT", quantity: 1, price: 250, fee: 0.125, at: TestClock.at(120), id: "sell-1"))
        let trade = try #require(trades.first)
        // (250 − 175) × 1 − 0.35 × 1/4 − 0.125
        #expect(isClose(trade.pnl, 74.7875))
        #expect(isClose(trade.fees, 0.2125))
        #expect(trade.size == 1 && trade.entryPrice == 175 && trade.exitPrice == 250)
        #expect(trade.openedAt == TestClock.at(0) && trade.closedAt == TestClock.at(120) && trade.eventTime == trade.closedAt)
        #expect(trade.orderId == "order-sell-1" && trade.originTickId == "tick-sell-1")
        #expect(trade.side == .long)

        let position = try #require(portfolio.position(of: "ETHUSDT"))
        #expect(position.size == 3 && position.entryPrice == 175)
        #expect(isClose(position.openEntryFees, 0.2625))
        #expect(isClose(portfolio.cash, 99_299.65 + 250 - 0.125))
        #expect(isClose(portfolio.realizedPnl, 74.7875))
    }

    @Test("unrealized PnL is marked to the last price net of open entry fees, and equity reconciles")
    func marksToMarket() {
        var portfolio = accumulated()
        _ = portfolio.apply(makeFill(.sell, symbol: "ETHUSDT", quantity: 1, price: 250, fee: 0.125))
        portfolio.mark(symbol: "ETHUSDT", quote: PriceQuote(price: 180, time: TestClock.at(180)))
        // (180 − 175) × 3 − 0.2625
        #expect(isClose(portfolio.unrealizedPnl, 14.7375))
        #expect(isClose(portfolio.totalExposure, 540))
        #expect(isClose(portfolio.equity, 99_549.525 + 540))
        #expect(isClose(portfolio.equity, portfolio.startingCapital + portfolio.realizedPnl + portfolio.unrealizedPnl))
    }

    @Test("a full close removes the position and books the remaining entry fees")
    func fullClose() throws {
        var portfolio = accumulated()
        _ = portfolio.apply(makeFill(.sell, symbol: "ETHUSDT", quantity: 1, price: 250, fee: 0.125))
        let trade = try #require(portfolio.apply(makeFill(.sell, symbol: "ETHUSDT", quantity: 3, price: 150, fee: 0.225)).first)
        // (150 − 175) × 3 − 0.2625 − 0.225
        #expect(isClose(trade.pnl, -75.4875))
        #expect(portfolio.openPositions.isEmpty)
        // Bought 700 + 0.35 fees, sold 700 − 0.35 fees: the round trip costs exactly the fees.
        #expect(isClose(portfolio.realizedPnl, -0.7))
        #expect(isClose(portfolio.cash, 100_000 - 0.7))
        #expect(isClose(portfolio.equity, 100_000 - 0.7))
        #expect(isClose(portfolio.feesPaid, 0.7))
    }

    @Test("a SELL larger than the position sells only what is held and pays only that share of the fee")
    func neverGoesShort() throws {
        var portfolio = Portfolio()
        _ = portfolio.apply(makeFill(.buy, quantity: 1, price: 100))
        let trade = try #require(portfolio.apply(makeFill(.sell, quantity: 2, price: 110, fee: 0.2)).first)
        #expect(trade.size == 1)
        #expect(isClose(trade.fees, 0.1))
        #expect(isClose(trade.pnl, 9.9))
        #expect(portfolio.openPositions.isEmpty)
        #expect(isClose(portfolio.cash, 100_009.9))
    }

    @Test("a SELL without a position, a rejected result and a fill without price change nothing")
    func ignoresNonFills() {
        var portfolio = Portfolio()
        let before = portfolio
        #expect(portfolio.apply(makeFill(.sell, quantity: 1, price: 100, fee: 0.05)).isEmpty)
        let order = OrderRequest(
            id: "o", signalId: "s", symbol: "BTCUSDT", side: .buy, quantity: 1, referencePrice: 100,
            priceTime: TestClock.at(0), maxSlippagePct: 0.01, reduceOnly: false, eventTime: TestClock.at(0), originTickId: "t"
        )
        #expect(portfolio.apply(PaperFillModel().fill(order, quote: nil, now: TestClock.at(0))).isEmpty)
        #expect(portfolio.apply(makeFill(.buy, quantity: 1, price: .nan)).isEmpty)
        #expect(portfolio.apply(makeFill(.buy, quantity: 0, price: 100)).isEmpty)
        #expect(portfolio == before)
    }

    @Test("total exposure sums every position at its own mark, and late or unusable marks are ignored")
    func exposureAcrossSymbols() {
        var portfolio = Portfolio()
        _ = portfolio.apply(makeFill(.buy, symbol: "BTCUSDT", quantity: 0.1, price: 50_000))
        _ = portfolio.apply(makeFill(.buy, symbol: "ETHUSDT", quantity: 2, price: 3_000))
        #expect(portfolio.marks["BTCUSDT"]?.price == 50_000)
        let newer = portfolio.mark(symbol: "BTCUSDT", quote: PriceQuote(price: 52_000, time: TestClock.at(10)))
        let older = portfolio.mark(symbol: "BTCUSDT", quote: PriceQuote(price: 1, time: TestClock.at(5)))
        let unusable = portfolio.mark(symbol: "ETHUSDT", quote: PriceQuote(price: -1, time: TestClock.at(20)))
        #expect(newer && !older && !unusable)
        #expect(isClose(portfolio.totalExposure, 5_200 + 6_000))
        #expect(isClose(portfolio.equity, 100_000 - 11_000 + 11_200))
    }

    @Test("the portfolio survives a Codable round trip unchanged")
    func persists() throws {
        var portfolio = accumulated()
        portfolio.mark(symbol: "ETHUSDT", quote: PriceQuote(price: 190, time: TestClock.at(300), tickId: "t"))
        let data = try EventCoding.encoder.encode(portfolio)
        #expect(try EventCoding.decoder.decode(Portfolio.self, from: data) == portfolio)
    }
}
