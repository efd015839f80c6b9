-- Seed §5.2 step 2: the positions the risk incident is about.
SELECT symbol, side, size, entry_price, current_price, unrealized_pnl FROM positions WHERE status = 'open' ORDER BY symbol
