#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StackContract
import TradingCore

/// cdb_risk's settings: the policy (limits, sizing, the fill model it predicts costs by), the account, the clock,
/// how often it snapshots and saves, the operator token.
public struct RiskSettings: Sendable, Equatable {
    public var policy: RiskPolicy
    public var startingCapital: Double
    public var clock: TradingClock
    public var snapshotInterval: Duration
    public var markSaveDelay: Duration
    public var marketWait: Duration
    /// `RISK_RESET_TOKEN`: empty disables the operator's circuit-breaker reset.
    public var resetToken: String

    /// Reads the limits, the fill model's settings, `STARTING_CAPITAL_USD`, `CLOCK` and the intervals; problems go to `env` (see `finish()`).
    public init(reading env: EnvironmentReader) {
        let limits = RiskLimits(reading: env)
        policy = RiskPolicy(limits: limits, sizer: PositionSizer(), fillModel: PaperFillModel(reading: env))
        startingCapital = env.read(.startingCapitalUSD)
        clock = TradingClock(reading: env)
        snapshotInterval = .seconds(env.read(.snapshotIntervalSec))
        markSaveDelay = .milliseconds(env.read(.markSaveIntervalMs))
        marketWait = .milliseconds(env.read(.marketClockWaitMs))
        resetToken = env.read(.riskResetToken)
    }
}
