#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PostgresClient
import TradingCore

/// The one place where the fractions the events carry become the percent the database stores.
///
/// Events say `total_exposure_pct: 0.25`; the runbook reads `portfolio_snapshots.total_exposure_pct` against
/// "Total Exposure > 30%", so every `*_pct` column holds percent (25.0).
public enum PercentScale {
    /// `fraction` (0.25) as percent (25.0).
    public static func percent(fromFraction fraction: Double) -> Double { fraction * 100 }
}

/// A temporary table one kind of event is COPYed into before the set-based insert into the real table.
struct StagingTable: Sendable {
    let name: String
    let columns: [(name: String, type: String)]

    var columnList: String { columns.map(\.name).joined(separator: ", ") }

    var createSQL: String {
        "CREATE TEMP TABLE \(name) (\(columns.map { "\($0.name) \($0.type)" }.joined(separator: ", "))) ON COMMIT DROP"
    }

    var copySQL: String { "COPY \(name) (\(columnList)) FROM STDIN" }

    /// `INSERT … SELECT … ON CONFLICT (id) DO NOTHING` into `table`, whose columns carry the same names.
    /// DISTINCT ON keeps one row per id when a batch repeats an event.
    func insertNewSQL(into table: String) -> String {
        "INSERT INTO \(table) (\(columnList)) SELECT DISTINCT ON (id) \(columnList) FROM \(name) ORDER BY id "
            + "ON CONFLICT (id) DO NOTHING"
    }

    static let signals = StagingTable(name: "incoming_signals", columns: [
        ("id", "text"), ("symbol", "text"), ("side", "text"), ("confidence", "double precision"),
        ("price", "double precision"), ("strategy", "text"), ("reason", "text"), ("price_time", "timestamptz"),
        ("timestamp", "timestamptz"), ("origin_tick_id", "text"), ("schema_version", "integer"),
    ])

    static let orders = StagingTable(name: "incoming_orders", columns: [
        ("id", "text"), ("signal_id", "text"), ("symbol", "text"), ("side", "text"), ("quantity", "double precision"),
        ("reference_price", "double precision"), ("price_time", "timestamptz"), ("max_slippage_pct", "double precision"),
        ("reduce_only", "boolean"), ("timestamp", "timestamptz"), ("origin_tick_id", "text"), ("schema_version", "integer"),
    ])

    static let orderResults = StagingTable(name: "incoming_order_results", columns: [
        ("id", "text"), ("order_id", "text"), ("symbol", "text"), ("side", "text"), ("status", "text"),
        ("requested_quantity", "double precision"), ("filled_quantity", "double precision"),
        ("fill_price", "double precision"), ("fee", "double precision"), ("slippage_pct", "double precision"),
        ("reason", "text"), ("message", "text"), ("result_at", "timestamptz"), ("origin_tick_id", "text"),
        ("schema_version", "integer"),
    ])

    static let trades = StagingTable(name: "incoming_trades", columns: [
        ("id", "text"), ("symbol", "text"), ("side", "text"), ("size", "double precision"),
        ("entry_price", "double precision"), ("exit_price", "double precision"), ("pnl", "double precision"),
        ("fees", "double precision"), ("opened_at", "timestamptz"), ("timestamp", "timestamptz"), ("order_id", "text"),
        ("origin_tick_id", "text"), ("schema_version", "integer"),
    ])

    static let portfolioSnapshots = StagingTable(name: "incoming_portfolio_snapshots", columns: [
        ("id", "text"), ("timestamp", "timestamptz"), ("equity_usd", "double precision"), ("cash_usd", "double precision"),
        ("total_exposure_usd", "double precision"), ("total_exposure_pct", "double precision"),
        ("daily_drawdown_pct", "double precision"), ("drawdown_from_peak_pct", "double precision"),
        ("realized_pnl", "double precision"), ("unrealized_pnl", "double precision"), ("open_positions", "integer"),
        ("trading_state", "text"), ("positions", "jsonb"), ("origin_tick_id", "text"), ("schema_version", "integer"),
    ])

    /// The position lines of the batch's snapshots, each with the snapshot it belongs to.
    static let snapshotPositions = StagingTable(name: "incoming_positions", columns: [
        ("snapshot_id", "text"), ("snapshot_time", "timestamptz"), ("symbol", "text"), ("side", "text"),
        ("size", "double precision"), ("entry_price", "double precision"), ("current_price", "double precision"),
        ("unrealized_pnl", "double precision"),
    ])

    static let riskEvents = StagingTable(name: "incoming_risk_events", columns: [
        ("id", "text"), ("signal_id", "text"), ("symbol", "text"), ("side", "text"), ("reason", "text"),
        ("message", "text"), ("timestamp", "timestamptz"), ("origin_tick_id", "text"), ("schema_version", "integer"),
    ])
}

/// One table's worth of a batch, already in COPY text format.
struct StagedLoad: Sendable {
    let table: StagingTable
    let data: [UInt8]
    let rows: Int

    init?(_ table: StagingTable, _ rows: [[String?]]) {
        guard !rows.isEmpty else { return nil }
        assert(rows.allSatisfy { $0.count == table.columns.count }, "\(table.name): row shape differs from its columns")
        self.table = table
        self.data = CopyTextFormat.encode(rows)
        self.rows = rows.count
    }
}

/// A batch split by table and encoded for COPY, ready to be written in one transaction.
///
/// Encoding happens on the caller's task, so the connection's thread spends its time on the wire only.
struct BatchStaging: Sendable {
    let signals: StagedLoad?
    let orders: StagedLoad?
    let orderResults: StagedLoad?
    let trades: StagedLoad?
    let portfolioSnapshots: StagedLoad?
    let snapshotPositions: StagedLoad?
    let riskEvents: StagedLoad?

    init(_ batch: [StoredEvent]) {
        var signals: [[String?]] = []
        var orders: [[String?]] = []
        var orderResults: [[String?]] = []
        var trades: [[String?]] = []
        var snapshots: [[String?]] = []
        var positions: [[String?]] = []
        var riskEvents: [[String?]] = []
        let positionsEncoder = EventCoding.encoder
        for event in batch {
            switch event {
            case .signal(let s):
                signals.append([s.id, s.symbol, s.side.rawValue, text(s.confidence), text(s.price), s.strategy, s.reason,
                                text(s.priceTime), text(s.eventTime), s.originTickId, text(s.schemaVersion)])
            case .order(let o):
                orders.append([o.id, o.signalId, o.symbol, o.side.rawValue, text(o.quantity), text(o.referencePrice),
                               text(o.priceTime), text(PercentScale.percent(fromFraction: o.maxSlippagePct)),
                               o.reduceOnly ? "true" : "false", text(o.eventTime), o.originTickId, text(o.schemaVersion)])
            case .orderResult(let r):
                orderResults.append([r.id, r.orderId, r.symbol, r.side.rawValue, r.status.rawValue, text(r.requestedQuantity),
                                     text(r.filledQuantity), r.fillPrice.map(text), text(r.fee),
                                     text(PercentScale.percent(fromFraction: r.slippagePct)), r.reason?.rawValue, r.message,
                                     text(r.eventTime), r.originTickId, text(r.schemaVersion)])
            case .trade(let t):
                trades.append([t.id, t.symbol, t.side.rawValue, text(t.size), text(t.entryPrice), text(t.exitPrice),
                               text(t.pnl), text(t.fees), text(t.openedAt), text(t.closedAt), t.orderId, t.originTickId,
                               text(t.schemaVersion)])
            case .portfolioSnapshot(let p):
                // Encoding [PositionSnapshot] cannot fail (finite numbers and strings only); "[]" is a safe fallback.
                let lines = (try? positionsEncoder.encode(p.positions)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
                snapshots.append([p.id, text(p.eventTime), text(p.equity), text(p.cash), text(p.totalExposure),
                                  text(PercentScale.percent(fromFraction: p.totalExposurePct)),
                                  text(PercentScale.percent(fromFraction: p.dailyDrawdownPct)),
                                  text(PercentScale.percent(fromFraction: p.drawdownFromPeakPct)),
                                  text(p.realizedPnl), text(p.unrealizedPnl), text(p.openPositions), p.tradingState.rawValue,
                                  lines, p.originTickId, text(p.schemaVersion)])
                for position in p.positions {
                    positions.append([p.id, text(p.eventTime), position.symbol, position.side.rawValue, text(position.size),
                                      text(position.entryPrice), text(position.currentPrice), text(position.unrealizedPnl)])
                }
            case .riskRejection(let r):
                riskEvents.append([r.id, r.signalId, r.symbol, r.side.rawValue, r.reason.rawValue, r.message,
                                   text(r.eventTime), r.originTickId, text(r.schemaVersion)])
            }
        }
        self.signals = StagedLoad(.signals, signals)
        self.orders = StagedLoad(.orders, orders)
        self.orderResults = StagedLoad(.orderResults, orderResults)
        self.trades = StagedLoad(.trades, trades)
        self.portfolioSnapshots = StagedLoad(.portfolioSnapshots, snapshots)
        self.snapshotPositions = StagedLoad(.snapshotPositions, positions)
        self.riskEvents = StagedLoad(.riskEvents, riskEvents)
    }

    /// Writes the batch inside the caller's transaction: one COPY and one set-based statement per table.
    func write(on db: isolated PostgresConnection) throws -> PersistOutcome {
        let loads = [signals, orders, orderResults, trades, portfolioSnapshots, snapshotPositions, riskEvents].compactMap { $0 }
        var outcome = PersistOutcome()
        guard !loads.isEmpty else { return outcome }
        // READ COMMITTED whatever the server's default: each statement below must see rows other writers committed.
        try db.execute((["SET TRANSACTION ISOLATION LEVEL READ COMMITTED"] + loads.map(\.table.createSQL))
            .joined(separator: ";\n"))
        for load in loads { try db.copyIn(load.table.copySQL, data: load.data) }

        if let signals { outcome.signals = try insertNew(signals, into: "signals", on: db) }
        // Requests before results: when both arrive in one batch the result then completes the request's row.
        if let orders { outcome.orders = try upsert(orders, Self.upsertOrdersSQL, on: db) }
        if let orderResults { outcome.orderResults = try upsert(orderResults, Self.upsertOrderResultsSQL, on: db) }
        if let trades { outcome.trades = try insertNew(trades, into: "trades", on: db) }
        if let portfolioSnapshots {
            outcome.portfolioSnapshots = try insertNew(portfolioSnapshots, into: "portfolio_snapshots", on: db)
            var changed = Set<String>()
            // Writers settle positions one at a time: after the lock, each statement sees every snapshot committed
            // by the writer before, so concurrent batches cannot leave a status computed from a partial picture.
            try db.execute("SELECT pg_advisory_xact_lock(\(Self.positionsLockKey))")
            if snapshotPositions != nil {
                for row in try db.query(Self.upsertPositionsSQL) { changed.insert(row["symbol"] ?? "") }
            }
            for row in try db.query(Self.refreshPositionStatusSQL) { changed.insert(row["symbol"] ?? "") }
            outcome.positionsChanged = changed.count
        }
        if let riskEvents { outcome.riskEvents = try insertNew(riskEvents, into: "risk_events", on: db) }
        return outcome
    }

    /// Advisory lock held while `positions` is brought in line with the stored snapshots.
    static let positionsLockKey: Int64 = 0x4344_425F_504F_5331  // "CDB_POS1"

    private func insertNew(_ load: StagedLoad, into table: String, on db: isolated PostgresConnection) throws -> WriteCounts {
        let inserted = try db.execute(load.table.insertNewSQL(into: table))
        return WriteCounts(inserted: inserted, duplicates: load.rows - inserted)
    }

    private func upsert(_ load: StagedLoad, _ sql: String, on db: isolated PostgresConnection) throws -> WriteCounts {
        let row = try db.query(sql).first
        let inserted = try row?.decode("inserted", as: Int.self) ?? 0
        let merged = try row?.decode("merged", as: Int.self) ?? 0
        return WriteCounts(inserted: inserted, merged: merged, duplicates: load.rows - inserted - merged)
    }

    /// An order request creates its row (status APPROVED), or fills in a row its result created first.
    /// A row that already has its request (`timestamp` set) is left alone: the event is a redelivery.
    /// Status stays whatever the row holds, so a result that came first is not undone.
    static let upsertOrdersSQL = """
        WITH written AS (
            INSERT INTO orders AS o (id, signal_id, symbol, side, quantity, reference_price, price_time, max_slippage_pct,
                                     reduce_only, timestamp, origin_tick_id, schema_version)
            SELECT DISTINCT ON (id) id, signal_id, symbol, side, quantity, reference_price, price_time, max_slippage_pct,
                   reduce_only, timestamp, origin_tick_id, schema_version
            FROM incoming_orders ORDER BY id
            ON CONFLICT (id) DO UPDATE SET
                signal_id = EXCLUDED.signal_id, symbol = EXCLUDED.symbol, side = EXCLUDED.side,
                quantity = EXCLUDED.quantity, reference_price = EXCLUDED.reference_price,
                price_time = EXCLUDED.price_time, max_slippage_pct = EXCLUDED.max_slippage_pct,
                reduce_only = EXCLUDED.reduce_only, timestamp = EXCLUDED.timestamp,
                origin_tick_id = EXCLUDED.origin_tick_id, schema_version = EXCLUDED.schema_version,
                received_at = EXCLUDED.received_at
            WHERE o.timestamp IS NULL
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS merged FROM written
        """

    /// An order result completes its order's row, or creates it (request fields NULL, `quantity` = the requested
    /// quantity) when the request has not arrived yet. The first result recorded for an order wins.
    static let upsertOrderResultsSQL = """
        WITH written AS (
            INSERT INTO orders AS o (id, symbol, side, quantity, status, result_id, filled_quantity, fill_price, fee,
                                     slippage_pct, reason, message, result_at, filled_at, origin_tick_id, schema_version,
                                     result_received_at)
            SELECT DISTINCT ON (order_id) order_id, symbol, side, requested_quantity, status, id, filled_quantity,
                   fill_price, fee, slippage_pct, reason, message, result_at,
                   CASE WHEN status = 'FILLED' THEN result_at END, origin_tick_id, schema_version, now()
            FROM incoming_order_results ORDER BY order_id, id
            ON CONFLICT (id) DO UPDATE SET
                status = EXCLUDED.status, result_id = EXCLUDED.result_id, filled_quantity = EXCLUDED.filled_quantity,
                fill_price = EXCLUDED.fill_price, fee = EXCLUDED.fee, slippage_pct = EXCLUDED.slippage_pct,
                reason = EXCLUDED.reason, message = EXCLUDED.message, result_at = EXCLUDED.result_at,
                filled_at = EXCLUDED.filled_at, result_received_at = EXCLUDED.result_received_at
            WHERE o.result_id IS NULL
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS merged FROM written
        """

    /// Each symbol's row takes the values of the newest snapshot (by time, then id) that lists it; an older
    /// snapshot arriving late never overwrites them. Status is settled by `refreshPositionStatusSQL`.
    static let upsertPositionsSQL = """
        INSERT INTO positions AS p (symbol, side, size, entry_price, current_price, unrealized_pnl, status,
                                    last_seen_at, snapshot_id)
        SELECT DISTINCT ON (symbol) symbol, side, size, entry_price, current_price, unrealized_pnl, 'closed',
               snapshot_time, snapshot_id
        FROM incoming_positions ORDER BY symbol, snapshot_time DESC, snapshot_id DESC
        ON CONFLICT (symbol) DO UPDATE SET
            side = EXCLUDED.side, size = EXCLUDED.size, entry_price = EXCLUDED.entry_price,
            current_price = EXCLUDED.current_price, unrealized_pnl = EXCLUDED.unrealized_pnl,
            last_seen_at = EXCLUDED.last_seen_at, snapshot_id = EXCLUDED.snapshot_id, updated_at = now()
        WHERE (EXCLUDED.last_seen_at, EXCLUDED.snapshot_id) > (p.last_seen_at, p.snapshot_id)
        RETURNING symbol
        """

    /// A position is open exactly when the newest stored snapshot lists it; otherwise it is closed since the first
    /// snapshot after the last one that listed it. Being a function of the stored snapshots only, the result does
    /// not depend on the order in which snapshots arrived.
    static let refreshPositionStatusSQL = """
        WITH newest AS (
            SELECT id FROM portfolio_snapshots ORDER BY timestamp DESC, id DESC LIMIT 1
        ), settled AS (
            SELECT p.symbol,
                   CASE WHEN p.snapshot_id = newest.id THEN 'open' ELSE 'closed' END AS status,
                   CASE WHEN p.snapshot_id = newest.id THEN NULL ELSE (
                       SELECT min(s.timestamp) FROM portfolio_snapshots s
                       WHERE (s.timestamp, s.id) > (p.last_seen_at, p.snapshot_id)
                   ) END AS closed_at
            FROM positions p CROSS JOIN newest
        )
        UPDATE positions p SET status = settled.status, closed_at = settled.closed_at, updated_at = now()
        FROM settled
        WHERE p.symbol = settled.symbol
          AND (p.status, p.closed_at) IS DISTINCT FROM (settled.status, settled.closed_at)
        RETURNING p.symbol
        """
}

// COPY text for the column types above; `CopyTextFormat` escapes, these only format.
private func text(_ value: Double) -> String { value.description }
private func text(_ value: Int) -> String { String(value) }
private func text(_ value: Date) -> String { EventCoding.timestamp(value) }
