#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ServiceHost
import TradingCore
import TradingServices

// cdb_execution (port 8003): orders → paper fills at the latest real price → order_results.
struct ExecutionConfig {
    var model: PaperFillModel
    var clock: TradingClock
    var latency: Duration
    var marketWait: Duration
}

await ServiceMain.run(service: "cdb_execution", defaultPort: 8003) { env in
    ExecutionConfig(
        model: PaperFillModel(
            baseSlippagePct: env.read(.slippageBasePct),
            impactCoefficient: env.read(.slippageImpactPct),
            takerFeePct: env.read(.takerFeePct),
            staleAfterSec: TimeInterval(env.read(.dataStaleTimeoutSec))),
        clock: TradingClock(reading: env),
        latency: .milliseconds(env.read(.simulatedLatencyMs)),
        marketWait: .milliseconds(env.read(.marketClockWaitMs)))
} build: { config, context in
    let stage = ExecutionStage(
        model: config.model, clock: config.clock, simulatedLatency: config.latency, marketWait: config.marketWait, publisher: context.publisher,
        metrics: context.metrics, logger: context.logger)
    return ServiceParts(
        workers: [
            context.consumer(.marketData) { await stage.handleMarketData($0) },
            context.consumer(.orders) { try await stage.handleOrders($0) },
        ],
        checks: [.redis(context.settings.redis)],
        status: { await stage.status() })
}
