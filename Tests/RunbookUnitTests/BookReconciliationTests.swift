import Foundation
import Runbook
import Testing
import TradingCore

/// Books kept by TradingCore's own accounting (what cdb_risk runs), seen as the reconciliation's sources see them.
struct KeptBooks {
    static let start = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-30T00:53:20Z
    var portfolio = Portfolio(startingCapital: 100_000)
    var fills: [BookFill] = []
    var trades: [BookTrade] = []
    var snapshot: BookSnapshot?

    /// Books one fill the way cdb_risk does and the way the writer stores it.
    mutating func fill(_ side: OrderSide, _ quantity: Double, at price: Double, fee: Double, minute: Double) {
        let id = "o\(fills.count + 1)"
        let time = Self.start.addingTimeInterval(minute * 60)
        let result = OrderResult(id: "r-" + id, orderId: id, symbol: "BTCUSDT", side: side, status: .filled, requestedQuantity: quantity,
                                 filledQuantity: quantity, fillPrice: price, fee: fee, slippagePct: 0, reason: nil, message: nil,
                                 eventTime: time, originTickId: "t-" + id)
        trades += portfolio.apply(result).map { BookTrade(id: $0.id, orderID: $0.orderId, symbol: $0.symbol, size: $0.size, pnl: $0.pnl) }
        fills.append(BookFill(orderID: id, symbol: "BTCUSDT", side: side, quantity: quantity, price: price, fee: fee, time: time))
    }

    var account: BookAccount {
        BookAccount(cash: portfolio.cash, positions: Dictionary(uniqueKeysWithValues: portfolio.openPositions.map { ($0.symbol, $0.size) }))
    }

    /// The snapshot cdb_risk sends after its last fill, a second later.
    mutating func takeSnapshot() {
        snapshot = BookSnapshot(time: (fills.last?.time ?? Self.start).addingTimeInterval(1), account: account, equity: portfolio.equity,
                                realizedPnl: portfolio.realizedPnl, unrealizedPnl: portfolio.unrealizedPnl)
    }

    /// A buy, a partial sell and a second buy: 0.3 + 0.1 BTC held.
    static func traded() -> KeptBooks {
        var books = KeptBooks()
        books.fill(.buy, 0.5, at: 40_000, fee: 10, minute: 1)
        books.fill(.sell, 0.2, at: 41_000, fee: 4.1, minute: 2)
        books.fill(.buy, 0.1, at: 40_500, fee: 2.025, minute: 3)
        books.takeSnapshot()
        return books
    }

    func reconciliation(status: BookAccount? = nil) -> BookReconciliation {
        BookReconciliation(startingCapital: 100_000, fills: fills, trades: trades, status: status ?? account, snapshot: snapshot)
    }
}

@Suite("Reconciliation: the books rebuilt from the fills against cdb_risk's status and the snapshots")
struct BookReconciliationTests {
    @Test("books kept by TradingCore's accounting agree with the rebuild from their fills")
    func agreeingBooks() {
        let books = KeptBooks.traded()
        let outcome = books.reconciliation().outcome()
        #expect(outcome.status == .pass, "\(outcome.detail)")
        // 100000 − 20010 + (8200 − 4.1) − 4052.025
        #expect(outcome.detail == "books agree: 3 fills (2 BUY, 1 SELL), 1 trades; cash 84133.88 USD, BTCUSDT 0.40000000 "
            + "(status and the snapshot of 2026-11-30T00:56:21Z agree within 0.01 USD / 0.00000001)", "\(outcome.detail)")
        #expect(abs((outcome.figures["cash.fills"] ?? 0) - 84_133.875) < 1e-9)
    }

    @Test("a fresh account: no fills yet, cash is the starting capital")
    func freshAccount() {
        var books = KeptBooks()
        books.takeSnapshot()
        let outcome = books.reconciliation().outcome()
        #expect(outcome.status == .pass)
        #expect(outcome.detail == "no fills yet; cash = starting capital 100000.00 USD (status and the snapshot of 2026-11-30T00:53:21Z agree)")
    }

    @Test("status cash 5 USD off is a failure naming the figures of every source and the difference")
    func cashOff() {
        let books = KeptBooks.traded()
        var status = books.account
        status.cash += 5
        let outcome = books.reconciliation(status: status).outcome()
        #expect(outcome.status == .fail)
        #expect(outcome.detail == "cash: fills 84133.88 USD, status 84138.88 (+5.00), snapshot 84133.88 (+0.00); allowed ±0.01", "\(outcome.detail)")
        #expect(outcome.figures["mismatches"] == 1)
    }

    @Test("a position the status does not hold is named with each source's quantity")
    func quantityOff() {
        let books = KeptBooks.traded()
        let outcome = books.reconciliation(status: BookAccount(cash: books.portfolio.cash, positions: [:])).outcome()
        #expect(outcome.status == .fail)
        #expect(outcome.detail == "BTCUSDT: fills 0.40000000, status 0.00000000 (-0.40000000), snapshot 0.40000000 (+0.00000000); allowed ±0.00000001", "\(outcome.detail)")
    }

    @Test("differences within the rounding tolerance agree")
    func withinTolerance() {
        let books = KeptBooks.traded()
        var status = books.account
        status.cash += 0.004
        status.positions["BTCUSDT", default: 0] -= 5e-9
        #expect(books.reconciliation(status: status).outcome().status == .pass)
    }

    @Test("a SELL of more than was held is a failure, whatever the other books say")
    func oversold() {
        var books = KeptBooks.traded()
        books.fill(.sell, 0.5, at: 41_000, fee: 10.25, minute: 4)
        books.takeSnapshot()
        let outcome = books.reconciliation().outcome()
        #expect(outcome.status == .fail)
        #expect(outcome.detail.hasPrefix("oversold: SELL o4 of 0.50000000 BTCUSDT at 2026-11-30T00:57:20Z with 0.40000000 held leaves -0.10000000; "), "\(outcome.detail)")
        #expect(outcome.figures["oversold"] == 1)
    }

    @Test("a snapshot older than the newest fill is judged against the fills up to its time, and the detail says so")
    func staleSnapshot() {
        var books = KeptBooks()
        books.fill(.buy, 0.5, at: 40_000, fee: 10, minute: 1)
        books.takeSnapshot()
        books.fill(.sell, 0.2, at: 41_000, fee: 4.1, minute: 2)
        let agreeing = books.reconciliation().outcome()
        #expect(agreeing.status == .pass, "\(agreeing.detail)")
        #expect(agreeing.detail.hasSuffix("; the last snapshot (2026-11-30T00:54:21Z) predates the newest fill (2026-11-30T00:55:20Z): judged against the 1 fills up to then"), "\(agreeing.detail)")

        var wrong = books
        wrong.snapshot?.account.cash -= 20
        let outcome = wrong.reconciliation().outcome()
        #expect(outcome.status == .fail)
        #expect(outcome.detail.contains("cash: fills 88185.90 USD, status 88185.90 (+0.00), fills up to the snapshot 79990.00, snapshot 79970.00 (-20.00)"), "\(outcome.detail)")
    }

    @Test("a SELL fill without its trade, and a trade no SELL fill explains, are named")
    func tradesTable() {
        var books = KeptBooks.traded()
        let trade = books.trades.removeFirst()
        books.trades.append(BookTrade(id: "t9", orderID: "o9", symbol: "BTCUSDT", size: 0.1, pnl: trade.pnl))
        let outcome = books.reconciliation().outcome()
        #expect(outcome.status == .fail)
        #expect(outcome.detail == "trades: 1 SELL fills without their trade (o2); trades: 1 trades name no SELL fill (t9 for order o9); "
            + "realized PnL: trades 0.00 USD, snapshot 191.90 (+191.90); allowed ±0.01", "\(outcome.detail)")
    }

    @Test("a snapshot from another starting capital is named with the capital it implies")
    func otherStartingCapital() {
        let books = KeptBooks.traded()
        let outcome = BookReconciliation(startingCapital: 50_000, fills: books.fills, trades: books.trades, status: books.account,
                                         snapshot: books.snapshot).outcome()
        #expect(outcome.status == .fail)
        #expect(outcome.detail.hasSuffix("the last snapshot implies a starting capital of 100000.00 USD (equity − realized − unrealized PnL), the books start from 50000.00"), "\(outcome.detail)")
    }
}
