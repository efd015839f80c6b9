import Foundation
import HTTPClient
import PostgresClient
import StackContract
import TradeStore
import TradingCore
import YAMLParser

/// `type: reconcile`: the books hold together. The account rebuilt from the FILLED orders agrees with cdb_risk's
/// `/status` (cash, open quantities), the last portfolio snapshot (cash, quantities, realized PnL) and the `trades`
/// table (one trade per SELL fill), within `tolerance` (`cash` USD, default 0.01; `quantity`, default 1e-8).
public struct ReconcileCheck: CheckType {
    public var tolerance: ReconciliationTolerance

    public init(tolerance: ReconciliationTolerance = ReconciliationTolerance()) {
        self.tolerance = tolerance
    }

    public static let typeName = "reconcile"
    public static let keys = ["tolerance"]

    public static func decode(from reader: CheckReader) -> ReconcileCheck? {
        var tolerance = ReconciliationTolerance()
        guard let node = reader["tolerance"] else { return ReconcileCheck(tolerance: tolerance) }
        let what = "\(reader.what).tolerance"
        guard let mapping = reader.context.mapping(node, what: what, allowedKeys: ["cash", "quantity"]) else { return nil }
        let bounds: [(String, WritableKeyPath<ReconciliationTolerance, Double>)] = [("cash", \.cash), ("quantity", \.quantity)]
        for (key, bound) in bounds {
            guard let value = mapping.optional(key, as: Double.self) else { continue }
            guard value >= 0 else {
                reader.error("\(what).\(key): expected a tolerance of 0 or more, got \(mapping[key]?.scalar ?? "\(value)")", at: mapping[key]!.mark)
                continue
            }
            tolerance[keyPath: bound] = value
        }
        return ReconcileCheck(tolerance: tolerance)
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        await context.reconcile(tolerance: tolerance)
    }
}

/// A source of the books that could not be read, said with what and where.
private struct UnreadableBooks: Error, CustomStringConvertible {
    var description: String
}

extension CheckContext {
    fileprivate func reconcile(tolerance: ReconciliationTolerance) async -> CheckOutcome {
        // The capital cdb_risk started from: the same `.env` setting, read by the catalogue's rules.
        let settings = EnvironmentReader(environment)
        let startingCapital = settings.read(.startingCapitalUSD)
        do throws(ConfigurationError) {
            try settings.finish()
        } catch {
            return .fail("no starting capital to rebuild the books from: " + error.problems.joined(separator: "; "))
        }
        let status: RiskStatus
        let stored: (fills: [BookFill], trades: [BookTrade], snapshot: BookSnapshot?)
        do throws(UnreadableBooks) {
            status = try await riskStatus()
            do {
                stored = try await storedBooks()
            } catch {
                throw UnreadableBooks(description: "the books in PostgreSQL (orders, trades, portfolio_snapshots) cannot be read: \(error)")
            }
        } catch {
            // A stop run again after `down` stands on what the earlier stop reconciled; no other phase may.
            if step.when != nil, let settled = await settledBeforeDown({ $0.id == step.id }) { return settled }
            return .fail(error.description)
        }
        let statusAccount = BookAccount(cash: status.cash, positions: Dictionary(status.openPositions.map { ($0.symbol, $0.size) }, uniquingKeysWith: +))
        return BookReconciliation(startingCapital: startingCapital, fills: stored.fills, trades: stored.trades, status: statusAccount,
                                  snapshot: stored.snapshot, tolerance: tolerance).outcome()
    }

    /// When the account cdb_risk holds was opened by `cdbctl risk reset-account` (the start of the last reset that
    /// deleted the old one); nil when it never was.
    private func accountOpenedAt() -> Date? {
        guard let reset = ReportsDirectory(path: reportsDirectory).lastRecord(of: .resetAccount),
              reset.results.contains(where: { $0.id == "account-deleted" && $0.status == .pass })
        else { return nil }
        return reset.startedAt
    }

    /// cdb_risk's `/status` on its published port, as the contract's `RiskStatus`.
    private func riskStatus() async throws(UnreadableBooks) -> RiskStatus {
        guard let base = baseURL(of: "cdb_risk") else { throw UnreadableBooks(description: "cdb_risk: no published port known") }
        do {
            return try await RiskStatusSource.fetch(baseURL: base)
        } catch {
            throw UnreadableBooks(description: error.description)
        }
    }

    /// The FILLED orders, the trades and the newest snapshot, read in one read-only transaction: the writer stores
    /// a batch's orders, trades and snapshots together, and separate reads could straddle one of its commits.
    ///
    /// After `cdbctl risk reset-account` the tables keep the old account's history: only what came after the reset
    /// belongs to the account cdb_risk holds now.
    private func storedBooks() async throws -> (fills: [BookFill], trades: [BookTrade], snapshot: BookSnapshot?) {
        let since = accountOpenedAt() ?? Date(timeIntervalSince1970: 0)
        let db = try await PostgresConnection(stack.postgres)
        defer { Task { await db.close() } }
        let (fillRows, tradeRows, snapshotRows) = try await db.transaction { db in
            try db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            return (try db.query("""
                        SELECT id, symbol, side, filled_quantity, fill_price, fee, filled_at FROM orders
                        WHERE status = 'FILLED' AND filled_at >= $1 ORDER BY filled_at, id
                        """, [since]),
                    try db.query("SELECT id, order_id, symbol, size, pnl FROM trades WHERE timestamp >= $1 ORDER BY timestamp, id", [since]),
                    try db.query("""
                        SELECT timestamp, cash_usd, equity_usd, realized_pnl, unrealized_pnl, positions::text AS positions
                        FROM portfolio_snapshots WHERE timestamp >= $1 ORDER BY timestamp DESC, id DESC LIMIT 1
                        """, [since]))
        }
        let fills = try fillRows.map { row throws -> BookFill in
            let id = row["id"] ?? "?"
            do {
                guard let side = OrderSide(rawValue: try row.decode("side")) else {
                    throw UnreadableBooks(description: "FILLED order \(id): side '\(row["side"] ?? "")' is neither BUY nor SELL")
                }
                return BookFill(orderID: id, symbol: try row.decode("symbol"), side: side, quantity: try row.decode("filled_quantity"),
                                price: try row.decode("fill_price"), fee: try row.decode("fee"), time: try row.decode("filled_at"))
            } catch let error as PostgresError {
                throw UnreadableBooks(description: "FILLED order \(id): \(error)")
            }
        }
        let trades = try tradeRows.map { row in
            BookTrade(id: try row.decode("id"), orderID: try row.decode("order_id"), symbol: try row.decode("symbol"),
                      size: try row.decode("size"), pnl: try row.decode("pnl"))
        }
        let snapshot = try snapshotRows.first.map { row -> BookSnapshot in
            struct Held: Decodable { var symbol: String; var size: Double }
            let held = try JSONDecoder().decode([Held].self, from: Data((try row.decode("positions", as: String.self)).utf8))
            return BookSnapshot(time: try row.decode("timestamp"),
                                account: BookAccount(cash: try row.decode("cash_usd"), positions: Dictionary(held.map { ($0.symbol, $0.size) }, uniquingKeysWith: +)),
                                equity: try row.decode("equity_usd"), realizedPnl: try row.decode("realized_pnl"),
                                unrealizedPnl: try row.decode("unrealized_pnl"))
        }
        return (fills, trades, snapshot)
    }
}
