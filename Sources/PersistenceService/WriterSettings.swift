import PostgresClient
import StackContract

/// cdb_db_writer's settings: the database and how many entries go into one batch.
public struct WriterSettings: Sendable, Equatable {
    public var postgres: PostgresConfiguration
    public var batchSize: Int

    /// Reads `POSTGRES_*` and `DB_BATCH_SIZE`; problems go to `env` (see `finish()`).
    public init(reading env: EnvironmentReader) {
        postgres = PostgresConfiguration(
            host: env.read(.postgresHost), port: env.read(.postgresPort),
            user: env.read(.postgresUser), password: env.read(.postgresPassword),
            database: env.read(.postgresDB), connectTimeoutSeconds: 5,
            reconnectWindow: .seconds(30), applicationName: "cdb_db_writer")
        batchSize = env.read(.dbBatchSize)
    }
}
