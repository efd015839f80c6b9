/// One numbered schema change, applied once in its own transaction and recorded in `schema_migrations`.
public struct Migration: Sendable, Hashable {
    /// Position in the sequence; strictly increasing, never reused.
    public let version: Int
    /// Short name stored next to the version, for operators reading `schema_migrations`.
    public let name: String
    /// The statements to run; several may be separated by `;`.
    public let sql: String

    /// Creates a migration; `version` must be positive.
    public init(version: Int, name: String, sql: String) {
        precondition(version > 0, "migration versions start at 1")
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// The `claire_de_binare` schema as a numbered sequence. Append new migrations; never edit an applied one.
///
/// Conventions the runbook's SQL relies on:
/// - every event table has `id text PRIMARY KEY` (the event id), `timestamp timestamptz` (the event time),
///   `origin_tick_id` and `received_at` (when this store wrote the row, for end-to-end latency);
/// - every `*_pct` column holds PERCENT (0–100), the events carry fractions (see `PercentScale`);
/// - money is `double precision` (paper trading; no rounding rules to honour).
public enum Migrations {
    /// The five tables the runbook queries.
    public static let runbookTables = Migration(version: 1, name: "runbook tables", sql: """
        CREATE TABLE signals (
            id              text PRIMARY KEY,
            symbol          text NOT NULL,
            side            text NOT NULL,
            confidence      double precision NOT NULL,
            price           double precision NOT NULL,
            strategy        text NOT NULL,
            reason          text NOT NULL,
            price_time      timestamptz NOT NULL,
            timestamp       timestamptz NOT NULL,
            origin_tick_id  text NOT NULL,
            schema_version  integer NOT NULL,
            received_at     timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX signals_timestamp_idx ON signals (timestamp);

        -- An approved order, completed by its OrderResult. Either may arrive first: a result without its
        -- order creates the row (timestamp NULL until the order arrives), a later order fills in its fields.
        CREATE TABLE orders (
            id                  text PRIMARY KEY,
            signal_id           text,
            symbol              text NOT NULL,
            side                text NOT NULL,
            quantity            double precision,
            reference_price     double precision,
            price_time          timestamptz,
            max_slippage_pct    double precision,
            reduce_only         boolean,
            timestamp           timestamptz,
            status              text NOT NULL DEFAULT 'APPROVED' CHECK (status IN ('APPROVED', 'FILLED', 'REJECTED')),
            result_id           text,
            filled_quantity     double precision,
            fill_price          double precision,
            fee                 double precision,
            slippage_pct        double precision,
            reason              text,
            message             text,
            result_at           timestamptz,
            filled_at           timestamptz,
            origin_tick_id      text NOT NULL,
            schema_version      integer NOT NULL,
            received_at         timestamptz NOT NULL DEFAULT now(),
            result_received_at  timestamptz
        );
        CREATE INDEX orders_timestamp_idx ON orders (timestamp);
        CREATE INDEX orders_status_idx ON orders (status);
        CREATE INDEX orders_signal_id_idx ON orders (signal_id);

        -- A closed round trip or partial close; timestamp is the closing time, pnl is net of fees.
        CREATE TABLE trades (
            id              text PRIMARY KEY,
            symbol          text NOT NULL,
            side            text NOT NULL,
            size            double precision NOT NULL,
            entry_price     double precision NOT NULL,
            exit_price      double precision NOT NULL,
            pnl             double precision NOT NULL,
            fees            double precision NOT NULL,
            opened_at       timestamptz NOT NULL,
            timestamp       timestamptz NOT NULL,
            order_id        text NOT NULL,
            origin_tick_id  text NOT NULL,
            schema_version  integer NOT NULL,
            received_at     timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX trades_timestamp_idx ON trades (timestamp);
        CREATE INDEX trades_order_id_idx ON trades (order_id);

        -- One row per symbol, derived from the portfolio snapshots: 'open' while the newest snapshot lists it,
        -- then 'closed' with the values it had in the last snapshot that listed it.
        CREATE TABLE positions (
            symbol          text PRIMARY KEY,
            side            text NOT NULL,
            size            double precision NOT NULL,
            entry_price     double precision NOT NULL,
            current_price   double precision NOT NULL,
            unrealized_pnl  double precision NOT NULL,
            status          text NOT NULL CHECK (status IN ('open', 'closed')),
            last_seen_at    timestamptz NOT NULL,
            snapshot_id     text NOT NULL,
            closed_at       timestamptz,
            updated_at      timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX positions_status_idx ON positions (status);

        CREATE TABLE portfolio_snapshots (
            id                      text PRIMARY KEY,
            timestamp               timestamptz NOT NULL,
            equity_usd              double precision NOT NULL,
            cash_usd                double precision NOT NULL,
            total_exposure_usd      double precision NOT NULL,
            total_exposure_pct      double precision NOT NULL,
            daily_drawdown_pct      double precision NOT NULL,
            drawdown_from_peak_pct  double precision NOT NULL,
            realized_pnl            double precision NOT NULL,
            unrealized_pnl          double precision NOT NULL,
            open_positions          integer NOT NULL,
            trading_state           text NOT NULL,
            positions               jsonb NOT NULL,
            origin_tick_id          text NOT NULL,
            schema_version          integer NOT NULL,
            received_at             timestamptz NOT NULL DEFAULT now()
        );
        -- (timestamp, id) is the order in which snapshots supersede each other.
        CREATE INDEX portfolio_snapshots_timestamp_idx ON portfolio_snapshots (timestamp, id);

        COMMENT ON COLUMN portfolio_snapshots.total_exposure_pct IS 'percent of equity (0-100), not a fraction';
        COMMENT ON COLUMN portfolio_snapshots.daily_drawdown_pct IS 'percent (0-100) of day-start equity';
        COMMENT ON COLUMN portfolio_snapshots.drawdown_from_peak_pct IS 'percent (0-100) of peak equity';
        COMMENT ON COLUMN orders.max_slippage_pct IS 'percent (0-100)';
        COMMENT ON COLUMN orders.slippage_pct IS 'percent (0-100)';
        COMMENT ON COLUMN trades.pnl IS 'realized PnL net of entry and exit fees';
        """)

    /// Risk rejections: every refused signal with its machine-readable reason.
    public static let riskEvents = Migration(version: 2, name: "risk events", sql: """
        CREATE TABLE risk_events (
            id              text PRIMARY KEY,
            signal_id       text NOT NULL,
            symbol          text NOT NULL,
            side            text NOT NULL,
            reason          text NOT NULL,
            message         text NOT NULL,
            timestamp       timestamptz NOT NULL,
            origin_tick_id  text NOT NULL,
            schema_version  integer NOT NULL,
            received_at     timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX risk_events_timestamp_idx ON risk_events (timestamp);
        CREATE INDEX risk_events_reason_idx ON risk_events (reason);
        """)

    /// New sessions of this database (psql included) use UTC, so the runbook's `DATE(timestamp)` groups by UTC day,
    /// the day the risk engine's daily drawdown resets on. Needs the database owner (or a superuser).
    public static let utcSessions = Migration(version: 3, name: "UTC session time zone", sql: """
        DO $$
        BEGIN
            EXECUTE format('ALTER DATABASE %I SET timezone TO %L', current_database(), 'UTC');
        END
        $$;
        """)

    /// Every migration, in version order.
    public static let all: [Migration] = [runbookTables, riskEvents, utcSessions]
}
