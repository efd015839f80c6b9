import ServiceHost
import PersistenceService
import StackContract
import TradeStore

// cdb_db_writer (metrics port 8004): signals, orders, order_results, trades, portfolio_snapshots, risk_events → PostgreSQL.
await ServiceMain.run(service: "cdb_db_writer", defaultPort: 8004, readConfig: WriterSettings.init(reading:)) { settings, context in
    // Migrations run before anything is consumed: the schema the batches need is there or the service does not start.
    let store = try await TradeStore.open(settings.postgres)
    let stage = PersistenceStage(store: store, metrics: context.metrics, logger: context.logger)
    let retention = StreamRetention(redis: context.settings.redis, retention: settings.retention, logger: context.logger)
    return ServiceParts(
        workers: BusStream.persisted.map { stream in
            context.consumer(stream, batchSize: settings.batchSize) { try await stage.handle($0, from: stream) }
        } + [PeriodicTask(every: .seconds(60), logger: context.logger) { try await retention.trim() }],
        checks: [.redis(context.settings.redis), PersistenceStage.databaseCheck(settings.postgres)],
        status: { await stage.status() })
}
