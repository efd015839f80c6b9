#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A long spot position in one symbol.
public struct Position: Codable, Sendable, Equatable {
    /// Trading pair.
    public let symbol: String
    /// Quantity held in base currency (always > 0 while the position exists).
    public fileprivate(set) var size: Double
    /// Weighted average fill price of the quantity held.
    public fileprivate(set) var entryPrice: Double
    /// Entry fees paid for the quantity still held; moved into PnL pro rata as it is sold.
    public fileprivate(set) var openEntryFees: Double
    /// Time of the first BUY fill of this position.
    public let openedAt: Date
}

/// Spot, long-only account: cash, positions and mark prices.
///
/// BUY fills open or grow a position at a weighted average entry price; SELL fills shrink or
/// close it and produce `ClosedTrade`s. Fees are paid in cash at fill time. Because unrealized
/// PnL is reported net of the open entry fees, `equity == startingCapital + realizedPnl +
/// unrealizedPnl` holds exactly (up to float rounding).
public struct Portfolio: Codable, Sendable, Equatable {
    /// Cash the account started with.
    public let startingCapital: Double
    /// Current quote-currency balance.
    public private(set) var cash: Double
    /// All fees paid so far.
    public private(set) var feesPaid: Double
    /// Sum of closed trades' PnL (net of their fees).
    public private(set) var realizedPnl: Double
    /// Open positions sorted by symbol.
    ///
    /// A sorted array rather than a dictionary: sums over positions then run in a fixed order,
    /// so every float result, and therefore every risk decision, is reproducible across runs
    /// and restores (dictionary order is randomized per process).
    public private(set) var openPositions: [Position]
    /// Latest usable price per symbol.
    public private(set) var marks: [String: PriceQuote]

    /// Creates an empty account holding `startingCapital` in cash.
    public init(startingCapital: Double = 100_000) {
        self.startingCapital = startingCapital
        self.cash = startingCapital
        self.feesPaid = 0
        self.realizedPnl = 0
        self.openPositions = []
        self.marks = [:]
    }

    /// Records a market price. Ignores unusable prices and quotes older than the current mark,
    /// so a late message can never move a valuation back in time. Returns whether it was taken.
    @discardableResult
    public mutating func mark(symbol: String, quote: PriceQuote) -> Bool {
        guard quote.isUsable else { return false }
        if let current = marks[symbol], current.time > quote.time { return false }
        marks[symbol] = quote
        return true
    }

    /// Books a fill. Rejected or malformed results, and SELLs with no position, change nothing.
    /// A SELL larger than the position only sells what is held (spot cannot go short) and only
    /// that share of the fee is charged. A BUY of a symbol never marked marks it at the fill
    /// price. Returns the closed trade for a SELL, nothing for a BUY.
    public mutating func apply(_ fill: OrderResult) -> [ClosedTrade] {
        guard fill.status == .filled,
              let price = fill.fillPrice, price.isFinite, price > 0,
              fill.filledQuantity.isFinite, fill.filledQuantity > 0,
              fill.fee.isFinite, fill.fee >= 0
        else { return [] }
        switch fill.side {
        case .buy:
            applyBuy(fill, price: price)
            return []
        case .sell:
            return applySell(fill, price: price).map { [$0] } ?? []
        }
    }

    /// The open position in `symbol`, if any.
    public func position(of symbol: String) -> Position? {
        openPositions.first { $0.symbol == symbol }
    }

    /// Quantity held in `symbol` (0 when flat).
    public func positionSize(of symbol: String) -> Double {
        position(of: symbol)?.size ?? 0
    }

    /// Mark-to-market value of the position in `symbol` (0 when flat).
    public func positionNotional(of symbol: String) -> Double {
        position(of: symbol).map(notional) ?? 0
    }

    /// Mark-to-market value of `position`.
    public func notional(of position: Position) -> Double {
        abs(position.size * valuationPrice(of: position))
    }

    /// Price a position is valued at: its latest mark.
    public func valuationPrice(of position: Position) -> Double {
        // Opening a position installs a mark if none exists, so the entry price is only a
        // fallback for hand-edited persisted state; it is the least surprising value there.
        marks[position.symbol]?.price ?? position.entryPrice
    }

    /// Mark-to-market PnL of one position, net of its open entry fees.
    public func unrealizedPnl(of position: Position) -> Double {
        (valuationPrice(of: position) - position.entryPrice) * position.size - position.openEntryFees
    }

    /// Mark-to-market PnL of all positions, net of their open entry fees.
    public var unrealizedPnl: Double {
        openPositions.reduce(0) { $0 + unrealizedPnl(of: $1) }
    }

    /// Sum of |size × last price| over open positions.
    public var totalExposure: Double {
        openPositions.reduce(0) { $0 + notional(of: $1) }
    }

    /// Cash plus the mark-to-market value of every position.
    public var equity: Double {
        openPositions.reduce(cash) { $0 + $1.size * valuationPrice(of: $1) }
    }

    private mutating func applyBuy(_ fill: OrderResult, price: Double) {
        let quantity = fill.filledQuantity
        cash -= quantity * price + fill.fee
        feesPaid += fill.fee
        if marks[fill.symbol] == nil {
            // A fill is a real price: better than leaving the position unvalued.
            marks[fill.symbol] = PriceQuote(price: price, time: fill.eventTime, tickId: fill.originTickId)
        }
        if let index = openPositions.firstIndex(where: { $0.symbol == fill.symbol }) {
            let position = openPositions[index]
            let newSize = position.size + quantity
            openPositions[index].entryPrice = (position.size * position.entryPrice + quantity * price) / newSize
            openPositions[index].size = newSize
            openPositions[index].openEntryFees += fill.fee
        } else {
            let position = Position(
                symbol: fill.symbol,
                size: quantity,
                entryPrice: price,
                openEntryFees: fill.fee,
                openedAt: fill.eventTime
            )
            openPositions.insert(position, at: openPositions.firstIndex { $0.symbol > fill.symbol } ?? openPositions.endIndex)
        }
    }

    private mutating func applySell(_ fill: OrderResult, price: Double) -> ClosedTrade? {
        guard let index = openPositions.firstIndex(where: { $0.symbol == fill.symbol }) else { return nil }
        let position = openPositions[index]
        let closedSize = min(fill.filledQuantity, position.size)
        let exitFee = fill.fee * closedSize / fill.filledQuantity
        let isFullClose = closedSize >= position.size
        let entryFee = isFullClose ? position.openEntryFees : position.openEntryFees * closedSize / position.size
        let pnl = (price - position.entryPrice) * closedSize - entryFee - exitFee

        cash += closedSize * price - exitFee
        feesPaid += exitFee
        realizedPnl += pnl
        if isFullClose {
            openPositions.remove(at: index)
        } else {
            openPositions[index].size -= closedSize
            openPositions[index].openEntryFees -= entryFee
        }
        return ClosedTrade(
            id: EventID.derived(from: "closed-trade", fill.id),
            symbol: fill.symbol,
            size: closedSize,
            entryPrice: position.entryPrice,
            exitPrice: price,
            pnl: pnl,
            fees: entryFee + exitFee,
            openedAt: position.openedAt,
            closedAt: fill.eventTime,
            orderId: fill.orderId,
            originTickId: fill.originTickId
        )
    }
}
