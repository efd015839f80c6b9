#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StackContract
import TradingCore

/// cdb_risk's settings: the limits, the account, the clock, how often it snapshots and saves, the operator token.
public struct RiskSettings: Sendable, Equatable {
    public var limits: RiskLimits
    public var startingCapital: Double
    public var clock: TradingClock
    public var snapshotInterval: Duration
    public var markSaveDelay: Duration
    public var marketWait: Duration
    /// `RISK_RESET_TOKEN`: empty disables the operator's circuit-breaker reset.
    public var resetToken: String

    /// Reads the limits, `STARTING_CAPITAL_USD`, `CLOCK` and the intervals; problems go to `env` (see `finish()`).
    public init(reading env: EnvironmentReader) {
        limits = RiskLimits(
            maxPositionPct: env.read(.maxPositionPct),
            maxTotalExposurePct: env.read(.maxTotalExposurePct),
            maxDailyDrawdownPct: env.read(.maxDailyDrawdownPct),
            circuitBreakerThresholdPct: env.read(.circuitBreakerThresholdPct),
            maxSlippagePct: env.read(.maxSlippagePct),
            dataStaleTimeoutSec: TimeInterval(env.read(.dataStaleTimeoutSec)))
        startingCapital = env.read(.startingCapitalUSD)
        clock = TradingClock(reading: env)
        snapshotInterval = .seconds(env.read(.snapshotIntervalSec))
        markSaveDelay = .milliseconds(env.read(.markSaveIntervalMs))
        marketWait = .milliseconds(env.read(.marketClockWaitMs))
        resetToken = env.read(.riskResetToken)
    }
}
