import ServiceHost
import TradingServices

// cdb_execution (port 8003): orders → paper fills at the latest real price → order_results.
await ServiceMain.run(service: "cdb_execution", defaultPort: 8003, readConfig: ExecutionSettings.init(reading:)) { settings, context in
    let stage = try await ExecutionStage(
        model: settings.model, clock: settings.clock, simulatedLatency: settings.latency, marketWait: settings.marketWait,
        publisher: context.publisher, store: context.publisher, metrics: context.metrics, logger: context.logger)
    return ServiceParts(
        workers: [
            context.consumer(.marketData) { await stage.handleMarketData($0) },
            context.consumer(.orders) { try await stage.handleOrders($0) },
        ],
        checks: [.redis(context.settings.redis)],
        status: { await stage.status() })
}
