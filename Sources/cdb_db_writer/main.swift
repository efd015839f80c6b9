import PostgresClient
import ServiceHost
import PersistenceService
import StackContract
import TradeStore

// cdb_db_writer (metrics port 8004): signals, orders, order_results, trades, portfolio_snapshots, risk_events → PostgreSQL.
struct WriterConfig {
    var postgres: PostgresConfiguration
    var batchSize: Int
}

await ServiceMain.run(service: "cdb_db_writer", defaultPort: 8004) { env in
    WriterConfig(
        postgres: PostgresConfiguration(
            host: env.read(.postgresHost), port: env.read(.postgresPort),
            user: env.read(.postgresUser), password: env.read(.postgresPassword),
            database: env.read(.postgresDB), connectTimeoutSeconds: 5,
            reconnectWindow: .seconds(30), applicationName: "cdb_db_writer"),
        batchSize: env.read(.dbBatchSize))
} build: { config, context in
    // Migrations run before anything is consumed: the schema the batches need is there or the service does not start.
    let store = try await TradeStore.open(config.postgres)
    let stage = PersistenceStage(store: store, metrics: context.metrics, logger: context.logger)
    return ServiceParts(
        workers: BusStream.persisted.map { stream in
            context.consumer(stream, batchSize: config.batchSize) { try await stage.handle($0, from: stream) }
        },
        checks: [.redis(context.settings.redis), PersistenceStage.databaseCheck(config.postgres)],
        status: { await stage.status() })
}
