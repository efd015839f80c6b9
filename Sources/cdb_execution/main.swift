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
            baseSlippagePct: env.decimal("SLIPPAGE_BASE_PCT", default: 0.0002, range: 0...0.05),
            impactCoefficient: env.decimal("SLIPPAGE_IMPACT_PCT", default: 0.0005, range: 0...0.05),
            takerFeePct: env.decimal("TAKER_FEE_PCT", default: 0.0005, range: 0...0.01),
            staleAfterSec: TimeInterval(env.integer("DATA_STALE_TIMEOUT_SEC", default: 30, range: 10...300))),
        clock: TradingClock(rawValue: env.choice("CLOCK", default: "wall", allowed: ["wall", "market"])) ?? .wall,
        latency: .milliseconds(env.integer("SIMULATED_LATENCY_MS", default: 0, range: 0...5_000)),
        marketWait: .milliseconds(env.integer("MARKET_CLOCK_WAIT_MS", default: 5_000, range: 0...60_000)))
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
