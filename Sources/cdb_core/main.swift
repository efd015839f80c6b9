import ServiceHost
import TradingCore
import TradingServices

// cdb_core (port 8001): market_data → momentum strategy → signals.
await ServiceMain.run(service: "cdb_core", defaultPort: 8001) { env in
    let short = env.integer("STRATEGY_SHORT_WINDOW", default: 3, range: 1...1_000)
    let long = env.integer("STRATEGY_LONG_WINDOW", default: 10, range: 2...10_000)
    if short >= long { env.problem("STRATEGY_SHORT_WINDOW (\(short)) must be smaller than STRATEGY_LONG_WINDOW (\(long))") }
    return MomentumStrategyConfig(
        shortWindow: min(short, long - 1), longWindow: long,
        threshold: env.decimal("STRATEGY_THRESHOLD", default: 0.0003, range: 0...0.1),
        cooldownTicks: env.integer("STRATEGY_COOLDOWN_TICKS", default: 3, range: 0...100_000))
} build: { config, context in
    let stage = SignalStage(strategy: MomentumStrategy(config: config), publisher: context.publisher, metrics: context.metrics, logger: context.logger)
    return ServiceParts(
        workers: [context.consumer(.marketData) { try await stage.handle($0) }],
        checks: [.redis(context.settings.redis)],
        status: { await stage.status() })
}
