-- Seed §2.3 (`\dt`): the runbook's five tables must exist in the public schema.
SELECT table_name FROM information_schema.tables
WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
ORDER BY table_name
