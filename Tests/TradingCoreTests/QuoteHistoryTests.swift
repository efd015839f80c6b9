import Foundation
import Testing
import TradingCore

@Suite("Quote history: the price as of a moment")
struct QuoteHistoryTests {
    @Test("the quote as of T is the last one at or before T; before the first there is none")
    func asOf() {
        var history = QuoteHistory(capacity: 10)
        for (second, price) in [(0.0, 100.0), (60, 101), (120, 102)] { history.record(PriceQuote(price: price, time: TestClock.at(second))) }
        #expect(history.quote(asOf: TestClock.at(-1)) == nil)
        #expect(history.quote(asOf: TestClock.at(0))?.price == 100)
        #expect(history.quote(asOf: TestClock.at(59.999))?.price == 100)
        #expect(history.quote(asOf: TestClock.at(60))?.price == 101)
        #expect(history.quote(asOf: TestClock.at(3_600)) == PriceQuote(price: 102, time: TestClock.at(120)))
        #expect(history.latestTime == TestClock.at(120))
    }

    @Test("a quote older than the newest is ignored; beyond its capacity the oldest are dropped")
    func orderAndCapacity() {
        var history = QuoteHistory(capacity: 3)
        history.record(PriceQuote(price: 100, time: TestClock.at(60)))
        history.record(PriceQuote(price: 99, time: TestClock.at(30)))
        #expect(history.quote(asOf: TestClock.at(45)) == nil)
        for second in 2...10 { history.record(PriceQuote(price: Double(second), time: TestClock.at(Double(second) * 60))) }
        #expect(history.latest?.price == 10)
        #expect(history.quote(asOf: TestClock.at(8 * 60))?.price == 8)  // the newest `capacity` are always kept
        #expect(history.quote(asOf: TestClock.at(60)) == nil)  // the first was dropped
    }
}
