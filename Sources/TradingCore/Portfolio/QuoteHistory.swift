#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The recent quotes of one symbol, oldest first, to answer "what was the price at time T".
///
/// In a market-clock replay the stages read their streams at different paces, so when an order priced at T
/// reaches execution, the newest quote it knows may be minutes later (or still earlier) than T. Filling at
/// the quote as of T fills at the price risk sized the order by, as a live exchange would have.
public struct QuoteHistory: Sendable {
    /// Time and price only (16 bytes a quote), so a month of minute bars costs under a megabyte.
    private var quotes: [(time: Date, price: Double)] = []
    /// How many quotes are kept; older ones are dropped.
    public let capacity: Int

    public init(capacity: Int) {
        precondition(capacity > 0, "a quote history keeps at least one quote")
        self.capacity = capacity
    }

    /// The time of the newest quote recorded.
    public var latestTime: Date? { quotes.last?.time }

    /// The newest quote recorded.
    public var latest: PriceQuote? { quotes.last.map { PriceQuote(price: $0.price, time: $0.time) } }

    /// Records `quote`; one older than the newest kept is ignored (the history only moves forward).
    public mutating func record(_ quote: PriceQuote) {
        if let newest = quotes.last, quote.time < newest.time { return }
        quotes.append((quote.time, quote.price))
        // Dropping in chunks keeps appends amortised O(1).
        if quotes.count >= 2 * capacity { quotes.removeFirst(quotes.count - capacity) }
    }

    /// The last quote observed at or before `time`; nil when every kept quote is later.
    public func quote(asOf time: Date) -> PriceQuote? {
        // Binary search for the first quote later than `time`.
        var low = 0
        var high = quotes.count
        while low < high {
            let middle = (low + high) / 2
            if quotes[middle].time <= time { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : PriceQuote(price: quotes[low - 1].price, time: quotes[low - 1].time)
    }
}
