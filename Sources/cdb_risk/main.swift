#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ServiceHost
import TradingCore
import TradingServices

// cdb_risk (port 8002): signals + market_data + order_results → orders / risk_events / trades / snapshots.
await ServiceMain.run(service: "cdb_risk", defaultPort: 8002, readConfig: RiskSettings.init(reading:)) { settings, context in
    let stage = try await RiskStage(
        policy: settings.policy, startingCapital: settings.startingCapital, startedAt: Date(),
        clock: settings.clock, snapshotInterval: settings.snapshotInterval,
        markSaveDelay: settings.markSaveDelay, marketWait: settings.marketWait,
        store: context.publisher, publisher: context.publisher, metrics: context.metrics, logger: context.logger)
    let token = settings.resetToken
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
