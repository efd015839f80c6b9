#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TradingCore

extension RiskLimits {
    /// The limits the settings give: cdb_risk enforces them, and cdbctl holds what cdb_risk reports to them.
    public init(reading env: EnvironmentReader) {
        self.init(
            maxPositionPct: env.read(.maxPositionPct),
            maxTotalExposurePct: env.read(.maxTotalExposurePct),
            maxDailyDrawdownPct: env.read(.maxDailyDrawdownPct),
            circuitBreakerThresholdPct: env.read(.circuitBreakerThresholdPct),
            maxSlippagePct: env.read(.maxSlippagePct),
            dataStaleTimeoutSec: TimeInterval(env.read(.dataStaleTimeoutSec)))
    }
}
