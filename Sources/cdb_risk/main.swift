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
            maxPositionPct: env.read(.maxPositionPct),
            maxTotalExposurePct: env.read(.maxTotalExposurePct),
            maxDailyDrawdownPct: env.read(.maxDailyDrawdownPct),
            circuitBreakerThresholdPct: env.read(.circuitBreakerThresholdPct),
            maxSlippagePct: env.read(.maxSlippagePct),
            dataStaleTimeoutSec: TimeInterval(env.read(.dataStaleTimeoutSec))),
        startingCapital: env.read(.startingCapitalUSD),
        clock: TradingClock(reading: env),
        snapshotInterval: .seconds(env.read(.snapshotIntervalSec)),
        markSaveDelay: .milliseconds(env.read(.markSaveIntervalMs)),
        marketWait: .milliseconds(env.read(.marketClockWaitMs)),
        resetToken: env.read(.riskResetToken))
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
