-- Seed §5.6: how old the newest signal is.
SELECT MAX(timestamp) AS latest_signal, now() - MAX(timestamp) AS age FROM signals
