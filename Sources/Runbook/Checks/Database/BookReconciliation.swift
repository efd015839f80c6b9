import Foundation
import TradingCore

/// One FILLED order as the `orders` table holds it: what the account paid or received for it.
public struct BookFill: Sendable, Equatable {
    public var orderID: String
    public var symbol: String
    public var side: OrderSide
    /// `filled_quantity`, in the base currency.
    public var quantity: Double
    /// `fill_price`, slippage included.
    public var price: Double
    /// `fee`, in USD, paid on top of a BUY and out of a SELL's proceeds.
    public var fee: Double
    /// `filled_at`.
    public var time: Date

    public init(orderID: String, symbol: String, side: OrderSide, quantity: Double, price: Double, fee: Double, time: Date) {
        self.orderID = orderID
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.price = price
        self.fee = fee
        self.time = time
    }
}

/// One `trades` row: the round trip cdb_risk closed with a SELL fill.
public struct BookTrade: Sendable, Equatable {
    public var id: String
    public var orderID: String
    public var symbol: String
    public var size: Double
    /// Net of entry and exit fees.
    public var pnl: Double

    public init(id: String, orderID: String, symbol: String, size: Double, pnl: Double) {
        self.id = id
        self.orderID = orderID
        self.symbol = symbol
        self.size = size
        self.pnl = pnl
    }
}

/// An account as one source states it: cash in USD and the quantity held per symbol.
public struct BookAccount: Sendable, Equatable {
    public var cash: Double
    public var positions: [String: Double]

    public init(cash: Double, positions: [String: Double]) {
        self.cash = cash
        self.positions = positions
    }
}

/// The newest `portfolio_snapshots` row.
public struct BookSnapshot: Sendable, Equatable {
    public var time: Date
    public var account: BookAccount
    public var equity: Double
    public var realizedPnl: Double
    public var unrealizedPnl: Double

    public init(time: Date, account: BookAccount, equity: Double, realizedPnl: Double, unrealizedPnl: Double) {
        self.time = time
        self.account = account
        self.equity = equity
        self.realizedPnl = realizedPnl
        self.unrealizedPnl = unrealizedPnl
    }
}

/// How far two books may differ and still agree: float sums over hundreds of fills differ in the last
/// digits, a real error (a lost fill, a fee booked twice) is at least a cent or a satoshi.
public struct ReconciliationTolerance: Sendable, Equatable {
    /// USD; one cent by default.
    public var cash: Double
    /// Base currency; one satoshi by default.
    public var quantity: Double

    public init(cash: Double = 0.01, quantity: Double = 1e-8) {
        self.cash = cash
        self.quantity = quantity
    }
}

/// The books held together: the account rebuilt from the FILLED orders (starting capital − quantity × fill price
/// − fee per BUY, + quantity × fill price − fee per SELL; quantity per symbol Σ BUY − Σ SELL) against cdb_risk's
/// `/status`, the last snapshot and the `trades` table. Pure: the check reads the sources, this judges them.
///
/// The rebuild is deliberately not TradingCore's `Portfolio`: a reconciliation that ran the accounting it
/// checks would agree with any bug in it, and `Portfolio` clips an oversold SELL that this must report.
public struct BookReconciliation: Sendable {
    public var startingCapital: Double
    public var fills: [BookFill]
    public var trades: [BookTrade]
    public var status: BookAccount
    public var snapshot: BookSnapshot?
    public var tolerance: ReconciliationTolerance

    public init(startingCapital: Double, fills: [BookFill], trades: [BookTrade], status: BookAccount, snapshot: BookSnapshot?,
                tolerance: ReconciliationTolerance = ReconciliationTolerance()) {
        self.startingCapital = startingCapital
        self.fills = fills
        self.trades = trades
        self.status = status
        self.snapshot = snapshot
        self.tolerance = tolerance
    }

    /// The account the fills leave, and every SELL that sold more than was held at the time.
    public static func rebuild(_ fills: [BookFill], startingCapital: Double, tolerance: ReconciliationTolerance) -> (account: BookAccount, oversold: [String]) {
        var account = BookAccount(cash: startingCapital, positions: [:])
        var oversold: [String] = []
        for fill in fills {
            let held = account.positions[fill.symbol] ?? 0
            switch fill.side {
            case .buy:
                account.cash -= fill.quantity * fill.price + fill.fee
                account.positions[fill.symbol] = held + fill.quantity
            case .sell:
                account.cash += fill.quantity * fill.price - fill.fee
                account.positions[fill.symbol] = held - fill.quantity
                if held - fill.quantity < -tolerance.quantity {
                    oversold.append("SELL \(fill.orderID) of \(quantity(fill.quantity)) \(fill.symbol) at \(time(fill.time)) with \(quantity(held)) held leaves \(quantity(held - fill.quantity))")
                }
            }
        }
        return (account, oversold)
    }

    /// OK with the agreeing figures, or CRITICAL (a failed step) naming every disagreement with the figures of each source.
    public func outcome() -> CheckOutcome {
        let ordered = fills.sorted { ($0.time, $0.orderID) < ($1.time, $1.orderID) }
        let (books, oversold) = Self.rebuild(ordered, startingCapital: startingCapital, tolerance: tolerance)
        var problems = oversold.map { "oversold: " + $0 }
        var figures: [String: Double] = ["fills": Double(fills.count), "trades": Double(trades.count), "oversold": Double(oversold.count),
                                         "cash.fills": books.cash, "cash.status": status.cash]

        // The snapshot is judged against the fills up to its time: one older than the newest fill (the writer has
        // not stored the snapshot cdb_risk sends after every fill yet) still shows the books as they were then.
        var asOfSnapshot = books
        var snapshotNote = ""
        var snapshotFills = ordered
        if let snapshot {
            figures["cash.snapshot"] = snapshot.account.cash
            if let newest = ordered.last, newest.time > snapshot.time {
                snapshotFills = ordered.filter { $0.time <= snapshot.time }
                asOfSnapshot = Self.rebuild(snapshotFills, startingCapital: startingCapital, tolerance: tolerance).account
                snapshotNote = "; the last snapshot (\(Self.time(snapshot.time))) predates the newest fill (\(Self.time(newest.time))): "
                    + "judged against the \(snapshotFills.count) fills up to then"
            }
        }

        // Each figure as each source states it, next to what the fills give at that source's time.
        func comparison(_ item: String, unit: String, allowed: Double, format: @escaping (Double) -> String,
                        _ figure: (BookAccount) -> Double) -> Comparison {
            var stated = [(source: "status", value: figure(status), expected: figure(books))]
            if let snapshot { stated.append(("snapshot", figure(snapshot.account), figure(asOfSnapshot))) }
            return Comparison(item: item, unit: unit, expected: figure(books), allowed: allowed, format: format, stated: stated)
        }
        var symbols = Set(books.positions.keys).union(status.positions.keys)
        if let snapshot { symbols.formUnion(snapshot.account.positions.keys) }
        let compared = [comparison("cash", unit: " USD", allowed: tolerance.cash, format: Self.usd) { $0.cash }]
            + symbols.sorted().map { symbol in
                comparison(symbol, unit: "", allowed: tolerance.quantity, format: Self.quantity) { $0.positions[symbol] ?? 0 }
            }
        problems += compared.compactMap { $0.disagreement }
        problems += tradeProblems(ordered, snapshotFills: snapshotFills)
        if let snapshot {
            // equity = starting capital + realized + unrealized PnL holds in every snapshot, stale or not.
            let implied = snapshot.equity - snapshot.realizedPnl - snapshot.unrealizedPnl
            if abs(implied - startingCapital) > tolerance.cash {
                problems.append("the last snapshot implies a starting capital of \(Self.usd(implied)) USD (equity − realized − unrealized PnL), "
                    + "the books start from \(Self.usd(startingCapital))")
            }
        }
        figures["mismatches"] = Double(problems.count)
        guard problems.isEmpty else { return .fail(problems.joined(separator: "; "), figures: figures) }

        let sources = snapshot.map { "status and the snapshot of \(Self.time($0.time)) agree" } ?? "status agrees; no snapshot stored yet"
        guard !fills.isEmpty else {
            return .pass("no fills yet; cash = starting capital \(Self.usd(startingCapital)) USD (\(sources))", figures: figures)
        }
        let buys = fills.filter { $0.side == .buy }.count
        let held = books.positions.filter { abs($0.value) > tolerance.quantity }.sorted { $0.key < $1.key }
        let positions = held.isEmpty ? "flat" : held.map { "\($0.key) \(Self.quantity($0.value))" }.joined(separator: ", ")
        return .pass("books agree: \(fills.count) fills (\(buys) BUY, \(fills.count - buys) SELL), \(trades.count) trades; "
            + "cash \(Self.usd(books.cash)) USD, \(positions) (\(sources) within \(Self.usd(tolerance.cash)) USD / \(Self.quantity(tolerance.quantity)))"
            + snapshotNote, figures: figures)
    }

    /// Every SELL fill closes exactly one round trip of its size, and every trade belongs to a SELL fill; the trades'
    /// PnL adds up to the snapshot's realized PnL.
    private func tradeProblems(_ ordered: [BookFill], snapshotFills: [BookFill]) -> [String] {
        var problems: [String] = []
        let tradesByOrder = Dictionary(grouping: trades, by: \.orderID)
        let sells = ordered.filter { $0.side == .sell }
        let sellIDs = Set(sells.map(\.orderID))
        let withoutTrade = sells.filter { tradesByOrder[$0.orderID] == nil }.map(\.orderID)
        if !withoutTrade.isEmpty {
            problems.append("trades: \(withoutTrade.count) SELL fills without their trade (\(withoutTrade.prefix(3).joined(separator: ", ")))")
        }
        for sell in sells {
            guard let booked = tradesByOrder[sell.orderID] else { continue }
            let size = booked.reduce(0) { $0 + $1.size }
            if booked.count > 1 {
                problems.append("trades: SELL \(sell.orderID) closed \(booked.count) trades (\(booked.map(\.id).joined(separator: ", ")))")
            } else if abs(size - sell.quantity) > tolerance.quantity {
                problems.append("trades: the trade of SELL \(sell.orderID) is \(Self.quantity(size)) \(sell.symbol), the fill \(Self.quantity(sell.quantity))")
            }
        }
        let strays = trades.filter { !sellIDs.contains($0.orderID) }
        if !strays.isEmpty {
            problems.append("trades: \(strays.count) trades name no SELL fill (\(strays.prefix(3).map { "\($0.id) for order \($0.orderID)" }.joined(separator: ", ")))")
        }
        if let snapshot {
            let included = Set(snapshotFills.map(\.orderID))
            let realized = trades.filter { included.contains($0.orderID) }.reduce(0) { $0 + $1.pnl }
            if abs(realized - snapshot.realizedPnl) > tolerance.cash {
                problems.append("realized PnL: trades \(Self.usd(realized)) USD, snapshot \(Self.usd(snapshot.realizedPnl)) "
                    + "(\(Self.signedUSD(snapshot.realizedPnl - realized))); allowed ±\(Self.usd(tolerance.cash))")
            }
        }
        return problems
    }

    /// One figure of the books (cash, or a symbol's quantity) as the fills give it and as each source states it.
    private struct Comparison {
        var item: String
        var unit: String
        /// What the fills give now.
        var expected: Double
        var allowed: Double
        var format: (Double) -> String
        /// Each source's figure with what the fills gave at its time.
        var stated: [(source: String, value: Double, expected: Double)]

        /// `cash: fills 99995.00 USD, status 100000.00 (+5.00), snapshot 99995.00 (+0.00); allowed ±0.01`, when a source is off.
        var disagreement: String? {
            guard stated.contains(where: { abs($0.value - $0.expected) > allowed }) else { return nil }
            var text = "\(item): fills \(format(expected))\(unit)"
            for (source, value, basis) in stated {
                if basis != expected { text += ", fills up to the \(source) \(format(basis))" }
                let difference = value - basis
                text += ", \(source) \(format(value)) (\(difference >= 0 ? "+" : "")\(format(difference)))"
            }
            return text + "; allowed ±\(format(allowed))"
        }
    }

    static func usd(_ value: Double) -> String { String(format: "%.2f", value) }
    static func signedUSD(_ value: Double) -> String { String(format: "%+.2f", value) }
    static func quantity(_ value: Double) -> String { String(format: "%.8f", value) }
    static func time(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
