import PostgresClient

/// What a migration run found and did.
public struct MigrationReport: Sendable, Equatable {
    /// Versions this run applied, in order.
    public var applied: [Int]
    /// Versions that were already recorded when this run looked (another writer may have applied them meanwhile).
    public var alreadyApplied: [Int]
    /// The newest version recorded once the run finished.
    public var currentVersion: Int
}

/// Brings a database up to the newest `Migration`, safely when several writers start at once.
///
/// Each migration runs in its own transaction that first takes a transaction-level advisory lock, then reads
/// `schema_migrations`: a second writer starting at the same time waits for the lock, then sees the version
/// recorded and skips it. A failing migration rolls back completely, its version unrecorded.
public struct SchemaMigrator: Sendable {
    /// Key of the advisory lock every migration transaction holds (advisory locks are per database).
    public static let advisoryLockKey: Int64 = 0x4344_425F_4D49_4752  // "CDB_MIGR"

    /// The migrations this build knows, in version order.
    public let migrations: [Migration]

    /// A migrator for `migrations` (by default the real schema); versions must be strictly increasing.
    public init(migrations: [Migration] = Migrations.all) {
        precondition(zip(migrations, migrations.dropFirst()).allSatisfy { $0.version < $1.version },
                     "migration versions must be strictly increasing")
        self.migrations = migrations
    }

    /// The newest version this build knows (0 when it knows none).
    public var newestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies every migration the database lacks; a no-op when it is current. Throws
    /// `databaseNewerThanCode` when the database was migrated by a newer build.
    @discardableResult
    public func migrate(_ connection: PostgresConnection) async throws(TradeStoreError) -> MigrationReport {
        var report = MigrationReport(applied: [], alreadyApplied: [], currentVersion: 0)
        for migration in migrations {
            let appliedNow = try await withStoreErrors("migration \(migration.version) '\(migration.name)'") {
                try await connection.transaction { db in try self.apply(migration, on: db) }
            }
            if appliedNow { report.applied.append(migration.version) } else { report.alreadyApplied.append(migration.version) }
        }
        // Also covers an empty migration list: the downgrade check still runs once.
        let recorded = try await recordedMigrations(connection)
        try check(recorded)
        report.currentVersion = recorded.map(\.version).max() ?? 0
        return report
    }

    /// The versions and names recorded in `schema_migrations`, oldest first (empty before the first migration).
    public func recordedMigrations(_ connection: PostgresConnection) async throws(TradeStoreError) -> [(version: Int, name: String)] {
        try await withStoreErrors("reading schema_migrations") {
            try await connection.transaction { db in try Self.recorded(on: db) }
        }
    }

    /// Runs `migration` unless recorded; true when it ran. Runs inside the caller's transaction.
    private func apply(_ migration: Migration, on db: isolated PostgresConnection) throws -> Bool {
        // Every statement in READ COMMITTED takes a fresh snapshot, so the read after the lock sees
        // whatever the writer that held the lock before us committed.
        try db.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        try db.execute("SELECT pg_advisory_xact_lock(\(Self.advisoryLockKey))")
        let recorded = try Self.recorded(on: db)
        try check(recorded)
        if recorded.contains(where: { $0.version == migration.version }) { return false }
        do {
            try db.execute(migration.sql)
        } catch {
            // `execute` throws only PostgresError (typed), so `error` is one.
            throw TradeStoreError.migrationFailed(version: migration.version, name: migration.name, error)
        }
        try db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())",
                       [migration.version, migration.name])
        return true
    }

    private static func recorded(on db: isolated PostgresConnection) throws -> [(version: Int, name: String)] {
        // Checked rather than `CREATE TABLE IF NOT EXISTS`, whose NOTICE libpq would print on every start.
        let missing = try db.query("SELECT to_regclass('public.schema_migrations') IS NULL AS missing")
        if try missing.first?.decode("missing", as: Bool.self) ?? true {
            try db.execute("""
                CREATE TABLE schema_migrations (
                    version     integer PRIMARY KEY,
                    name        text NOT NULL,
                    applied_at  timestamptz NOT NULL DEFAULT now()
                )
                """)
        }
        return try db.query("SELECT version, name FROM schema_migrations ORDER BY version").map { row in
            (try row.decode("version", as: Int.self), try row.decode("name", as: String.self))
        }
    }

    private func check(_ recorded: [(version: Int, name: String)]) throws(TradeStoreError) {
        let newer = recorded.filter { $0.version > newestVersion }.map(\.version)
        if !newer.isEmpty {
            throw .databaseNewerThanCode(databaseVersions: newer, newestKnownVersion: newestVersion)
        }
        let known = Set(migrations.map(\.version))
        if let unknown = recorded.first(where: { !known.contains($0.version) }) {
            throw .unknownMigrationInDatabase(version: unknown.version, name: unknown.name)
        }
    }
}

/// Runs `body`, turning adapter errors into `TradeStoreError.database` naming `operation`.
func withStoreErrors<Value>(
    _ operation: String, _ body: () async throws -> Value
) async throws(TradeStoreError) -> Value {
    do {
        return try await body()
    } catch let error as TradeStoreError {
        throw error
    } catch let error as PostgresError {
        throw .database(operation: operation, error)
    } catch {
        // `transaction` is untyped; only the two error types above are ever thrown inside it.
        throw .database(operation: operation, .configuration(String(describing: error)))
    }
}
