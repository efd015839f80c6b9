import Foundation
import LocalServers
import PostgresClient
import TradeStore
import Testing

@Suite("Schema migrations at start-up")
struct MigrationTests {
    private func freshDatabase() async throws -> PostgresConfiguration {
        try await SharedServers.postgres().createDatabase()
    }

    private func publicTables(_ db: PostgresConnection) async throws -> Set<String> {
        Set(try await db.query("SELECT tablename FROM pg_tables WHERE schemaname='public'").map { try $0.decode("tablename") })
    }

    @Test("a fresh database gets every table, and the runbook's \\dt shows its five")
    func freshDatabaseGetsAllTables() async throws {
        let db = try await PostgresConnection(try await freshDatabase())
        let report = try await SchemaMigrator().migrate(db)
        #expect(report.applied == [1, 2, 3])
        #expect(report.alreadyApplied.isEmpty)
        #expect(report.currentVersion == 3)
        let tables = try await publicTables(db)
        #expect(tables.isSuperset(of: ["signals", "orders", "trades", "positions", "portfolio_snapshots"]))
        #expect(tables == ["signals", "orders", "trades", "positions", "portfolio_snapshots", "risk_events", "schema_migrations"])
        let names = try await db.query("SELECT version, name FROM schema_migrations ORDER BY version")
            .map { "\(try $0.decode("version", as: Int.self)) \(try $0.decode("name", as: String.self))" }
        #expect(names == ["1 runbook tables", "2 risk events", "3 UTC session time zone"])
    }

    @Test("running the migrations again changes nothing")
    func rerunIsNoOp() async throws {
        let configuration = try await freshDatabase()
        let first = try await TradeStore.open(configuration)
        let appliedAt = try await first.connection.query("SELECT version, applied_at FROM schema_migrations ORDER BY version")
            .map { $0["applied_at"] }
        let second = try await TradeStore.open(configuration)
        let report = try await second.migrate()
        #expect(report.applied.isEmpty)
        #expect(report.alreadyApplied == [1, 2, 3])
        let after = try await second.connection.query("SELECT version, applied_at FROM schema_migrations ORDER BY version")
            .map { $0["applied_at"] }
        #expect(after == appliedAt)
    }

    @Test("two writers starting at once apply each migration exactly once, and neither fails")
    func concurrentMigrators() async throws {
        let configuration = try await freshDatabase()
        let one = try await PostgresConnection(configuration)
        let two = try await PostgresConnection(configuration)
        async let first = SchemaMigrator().migrate(one)
        async let second = SchemaMigrator().migrate(two)
        let reports = try await [first, second]
        #expect((reports[0].applied + reports[1].applied).sorted() == [1, 2, 3])
        #expect(reports.allSatisfy { $0.currentVersion == 3 })
        let rows = try await one.query("SELECT count(*) AS n FROM schema_migrations")
        #expect(try rows.first?.decode("n", as: Int.self) == 3)
    }

    @Test("a database migrated by a newer build is refused as a downgrade")
    func downgradeIsAnError() async throws {
        let store = try await TradeStore.open(try await freshDatabase())
        try await store.connection.execute("INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')")
        let error = await #expect(throws: TradeStoreError.self) { try await store.migrate() }
        #expect(error == .databaseNewerThanCode(databaseVersions: [99], newestKnownVersion: 3))
        #expect(error?.description.contains("refusing to run older code on a newer schema") == true)
    }

    @Test("a failing migration rolls back whole and leaves its version unrecorded")
    func failingMigrationRollsBack() async throws {
        let db = try await PostgresConnection(try await freshDatabase())
        let migrator = SchemaMigrator(migrations: [
            Migration(version: 1, name: "first", sql: "CREATE TABLE first_table (x int)"),
            Migration(version: 2, name: "broken", sql: "CREATE TABLE half_done (x int); SELECT * FROM no_such_table"),
        ])
        let error = await #expect(throws: TradeStoreError.self) { try await migrator.migrate(db) }
        guard case .migrationFailed(let version, let name, let cause)? = error else {
            Issue.record("expected migrationFailed, got \(String(describing: error))")
            return
        }
        #expect(version == 2 && name == "broken" && cause.sqlState == "42P01")
        #expect(try await publicTables(db) == ["first_table", "schema_migrations"])
        let versions = try await migrator.recordedMigrations(db).map(\.version)
        #expect(versions == [1])
    }

    @Test("new sessions of the database use UTC, so DATE(timestamp) in psql is the UTC day")
    func databaseDefaultsToUTC() async throws {
        let store = try await TradeStore.open(try await freshDatabase())
        let settings = try await store.connection.query("""
            SELECT array_to_string(setconfig, ',') AS config FROM pg_db_role_setting
            WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND setrole = 0
            """)
        #expect(settings.first?["config"]?.contains("TimeZone=UTC") == true)
    }
}
