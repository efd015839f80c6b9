import ServiceHost
import TradingCore
import TradingServices

// cdb_core (port 8001): market_data → momentum strategy → signals.
await ServiceMain.run(service: "cdb_core", defaultPort: 8001, readConfig: SignalSettings.init(reading:)) { settings, context in
    let stage = try await SignalStage(
        strategy: MomentumStrategy(config: settings.strategy), publisher: context.publisher, store: context.publisher,
        metrics: context.metrics, logger: context.logger)
    return ServiceParts(
        workers: [context.consumer(.marketData) { try await stage.handle($0) }],
        checks: [.redis(context.settings.redis)],
        status: { await stage.status() })
}
