#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StackContract
import TradingCore

/// cdb_execution's settings: the paper fill model, the clock, the simulated latency and the market clock's wait.
public struct ExecutionSettings: Sendable, Equatable {
    public var model: PaperFillModel
    public var clock: TradingClock
    public var latency: Duration
    public var marketWait: Duration

    /// Reads `SLIPPAGE_*`, `TAKER_FEE_PCT`, `DATA_STALE_TIMEOUT_SEC`, `CLOCK` and the waits; problems go to `env`.
    public init(reading env: EnvironmentReader) {
        model = PaperFillModel(reading: env)
        clock = TradingClock(reading: env)
        latency = .milliseconds(env.read(.simulatedLatencyMs))
        marketWait = .milliseconds(env.read(.marketClockWaitMs))
    }
}

extension PaperFillModel {
    /// The fill model from `SLIPPAGE_*`, `TAKER_FEE_PCT` and `DATA_STALE_TIMEOUT_SEC`: cdb_execution fills by it and
    /// cdb_risk predicts costs by it, so both read the same settings.
    public init(reading env: EnvironmentReader) {
        self.init(
            baseSlippagePct: env.read(.slippageBasePct),
            impactCoefficient: env.read(.slippageImpactPct),
            takerFeePct: env.read(.takerFeePct),
            staleAfterSec: TimeInterval(env.read(.dataStaleTimeoutSec)))
    }
}
