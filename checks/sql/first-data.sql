-- Seed §3.2 / §3.3: first rows after the start (orders and trades may still be 0, depending on the market).
SELECT (SELECT COUNT(*) FROM signals) AS signals,
       (SELECT COUNT(*) FROM orders) AS orders,
       (SELECT COUNT(*) FROM trades) AS trades
