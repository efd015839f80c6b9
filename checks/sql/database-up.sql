-- Seed §4.2 "PostgreSQL down": the database answers and the writer's tables are readable.
SELECT 1 AS up, (SELECT COUNT(*) FROM portfolio_snapshots) AS snapshots
