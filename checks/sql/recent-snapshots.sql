-- The last day's equity, drawdown and exposure (what the seed's Grafana equity curve shows).
SELECT timestamp, equity_usd, daily_drawdown_pct, total_exposure_pct, trading_state
FROM portfolio_snapshots WHERE timestamp > now() - interval '24 hours' ORDER BY timestamp
