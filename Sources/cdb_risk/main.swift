#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ServiceHost
import TradingCore
import TradingServices

// cdb_risk (port 8002): signals + market_data + order_results → orders / risk_events / trades / snapshots.
struct RiskConfig {
    var limits: RiskLimits
    var startingCapital: Double
    var clock: TradingClock
    var snapshotInterval: Duration
    var markSaveDelay: Duration
    var marketWait: Duration
    var resetToken: String
}

await ServiceMain.run(service: "cdb_risk", defaultPort: 8002) { env in
    RiskConfig(
        limits: RiskLimits(
            maxPositionPct: env.decimal("MAX_POSITION_PCT", default: 0.10, range: 0.01...1),
            maxTotalExposurePct: env.decimal("MAX_TOTAL_EXPOSURE_PCT", default: 0.30, range: 0.1...1),
            maxDailyDrawdownPct: env.decimal("MAX_DAILY_DRAWDOWN_PCT", default: 0.05, range: 0.01...0.5),
            circuitBreakerThresholdPct: env.decimal("CIRCUIT_BREAKER_THRESHOLD_PCT", default: 0.10, range: 0.05...0.5),
            maxSlippagePct: env.decimal("MAX_SLIPPAGE_PCT", default: 0.01, range: 0.001...0.1),
            dataStaleTimeoutSec: TimeInterval(env.integer("DATA_STALE_TIMEOUT_SEC", default: 30, range: 10...300))),
        startingCapital: env.decimal("STARTING_CAPITAL_USD", default: 100_000, range: 100...1_000_000_000),
        clock: TradingClock(rawValue: env.choice("CLOCK", default: "wall", allowed: ["wall", "market"])) ?? .wall,
        snapshotInterval: .seconds(env.integer("SNAPSHOT_INTERVAL_SEC", default: 3_600, range: 1...86_400)),
        markSaveDelay: .milliseconds(env.integer("MARK_SAVE_INTERVAL_MS", default: 1_000, range: 0...60_000)),
        marketWait: .milliseconds(env.integer("MARKET_CLOCK_WAIT_MS", default: 5_000, range: 0...60_000)),
        resetToken: env.secret("RISK_RESET_TOKEN", default: ""))
} build: { config, context in
    let stage = try await RiskStage(
        engine: RiskEngine(limits: config.limits, startingCapital: config.startingCapital, startedAt: Date()),
        clock: config.clock, snapshotInterval: config.snapshotInterval,
        markSaveDelay: config.markSaveDelay, marketWait: config.marketWait, redis: context.settings.redis,
        publisher: context.publisher, metrics: context.metrics, logger: context.logger)
    let token = config.resetToken
    return ServiceParts(
        workers: [
            // First, so it stops after the consumers and saves the marks their last batches moved.
            PeriodicTask(every: .seconds(1), logger: context.logger, atShutdown: { try await stage.flush() }) { try await stage.tick() },
            context.consumer(.marketData) { try await stage.handleMarketData($0) },
            context.consumer(.signals) { try await stage.handleSignals($0) },
            context.consumer(.orderResults) { try await stage.handleResults($0) },
        ],
        checks: [.redis(context.settings.redis)],
        status: { await stage.status() },
        routes: { router in
            // The operator's explicit circuit-breaker reset (ARCHITECTURE §4).
            OperatorRoute.register(on: router, path: "circuit-breaker/reset", token: token, tokenVariable: "RISK_RESET_TOKEN") {
                try await stage.resetCircuitBreaker()
            }
        })
}
