import PostgresClient
import StackContract

/// cdb_db_writer's settings: the database, how many entries go into one batch, how long the bus keeps what it stored.
public struct WriterSettings: Sendable, Equatable {
    public var postgres: PostgresConfiguration
    public var batchSize: Int
    /// `PERSISTED_RETENTION_HOURS`: acknowledged events younger than this stay on the persisted streams.
    public var retention: Duration

    /// Reads `POSTGRES_*`, `DB_BATCH_SIZE` and `PERSISTED_RETENTION_HOURS`; problems go to `env` (see `finish()`).
    public init(reading env: EnvironmentReader) {
        postgres = PostgresConfiguration(
            host: env.read(.postgresHost), port: env.read(.postgresPort),
            user: env.read(.postgresUser), password: env.read(.postgresPassword),
            database: env.read(.postgresDB), connectTimeoutSeconds: 5,
            reconnectWindow: .seconds(30), applicationName: "cdb_db_writer")
        batchSize = env.read(.dbBatchSize)
        retention = .seconds(env.read(.persistedRetentionHours) * 3_600)
    }
}
