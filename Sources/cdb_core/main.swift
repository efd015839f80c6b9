import ServiceHost
import TradingCore
import TradingServices

// cdb_core (port 8001): market_data → momentum strategy → signals.
await ServiceMain.run(service: "cdb_core", defaultPort: 8001) { env in
    let short = env.read(.strategyShortWindow)
    let long = env.read(.strategyLongWindow)
    if short >= long { env.problem("STRATEGY_SHORT_WINDOW (\(short)) must be smaller than STRATEGY_LONG_WINDOW (\(long))") }
    return MomentumStrategyConfig(
        shortWindow: min(short, long - 1), longWindow: long,
        threshold: env.read(.strategyThreshold),
        cooldownTicks: env.read(.strategyCooldownTicks))
} build: { config, context in
    let stage = SignalStage(strategy: MomentumStrategy(config: config), publisher: context.publisher, metrics: context.metrics, logger: context.logger)
    return ServiceParts(
        workers: [context.consumer(.marketData) { try await stage.handle($0) }],
        checks: [.redis(context.settings.redis)],
        status: { await stage.status() })
}
