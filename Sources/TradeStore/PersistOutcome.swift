/// How the events of one kind in a batch landed.
public struct WriteCounts: Sendable, Equatable, CustomStringConvertible {
    /// Events that created a row.
    public var inserted: Int
    /// Events that completed an existing row (an order meeting its result, in either order of arrival).
    public var merged: Int
    /// Events already stored (redeliveries, or repeats within the batch): skipped, nothing changed.
    public var duplicates: Int

    /// Counts for one kind of event.
    public init(inserted: Int = 0, merged: Int = 0, duplicates: Int = 0) {
        self.inserted = inserted
        self.merged = merged
        self.duplicates = duplicates
    }

    /// No events of this kind.
    public static let zero = WriteCounts()

    /// All events of this kind in the batch.
    public var total: Int { inserted + merged + duplicates }

    public var description: String { "\(inserted) inserted, \(merged) merged, \(duplicates) duplicate" }
}

/// What `TradeStore.persist(_:)` did with a batch, per table (order requests and results both land in `orders`).
public struct PersistOutcome: Sendable, Equatable, CustomStringConvertible {
    /// Table `signals`.
    public var signals: WriteCounts
    /// Order requests into `orders`: `merged` means the row already held the order's result.
    public var orders: WriteCounts
    /// Order results into `orders`: `inserted` means the result came before its order.
    public var orderResults: WriteCounts
    /// Table `trades`.
    public var trades: WriteCounts
    /// Table `portfolio_snapshots`.
    public var portfolioSnapshots: WriteCounts
    /// Table `risk_events`.
    public var riskEvents: WriteCounts
    /// Rows of `positions` created or changed (new values, opened or closed) by the batch's snapshots.
    public var positionsChanged: Int

    /// An outcome with nothing written.
    public init(signals: WriteCounts = .zero, orders: WriteCounts = .zero, orderResults: WriteCounts = .zero,
                trades: WriteCounts = .zero, portfolioSnapshots: WriteCounts = .zero, riskEvents: WriteCounts = .zero,
                positionsChanged: Int = 0) {
        self.signals = signals
        self.orders = orders
        self.orderResults = orderResults
        self.trades = trades
        self.portfolioSnapshots = portfolioSnapshots
        self.riskEvents = riskEvents
        self.positionsChanged = positionsChanged
    }

    private var all: [WriteCounts] { [signals, orders, orderResults, trades, portfolioSnapshots, riskEvents] }

    /// Events that created a row, over all tables.
    public var inserted: Int { all.map(\.inserted).reduce(0, +) }
    /// Events that completed an existing row, over all tables.
    public var merged: Int { all.map(\.merged).reduce(0, +) }
    /// Events skipped as already stored, over all tables.
    public var duplicates: Int { all.map(\.duplicates).reduce(0, +) }
    /// Events in the batch.
    public var events: Int { all.map(\.total).reduce(0, +) }

    public var description: String {
        "signals: \(signals); orders: \(orders); order results: \(orderResults); trades: \(trades); "
            + "portfolio snapshots: \(portfolioSnapshots); risk events: \(riskEvents); positions changed: \(positionsChanged)"
    }
}
