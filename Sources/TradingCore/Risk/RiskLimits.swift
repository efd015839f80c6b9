#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The risk limits, as fractions of current equity unless stated otherwise. All are inclusive
/// (see `LimitComparison`): a notional exactly at its maximum passes, a drawdown exactly at its
/// maximum halts.
public struct RiskLimits: Codable, Sendable, Equatable {
    /// `MAX_POSITION_PCT`: one symbol's position notional may be at most this fraction of equity.
    public var maxPositionPct: Double
    /// `MAX_TOTAL_EXPOSURE_PCT`: the sum of open notionals may be at most this fraction of equity.
    public var maxTotalExposurePct: Double
    /// `MAX_DAILY_DRAWDOWN_PCT`: loss since the UTC day start (marked to market) that halts
    /// risk-increasing orders until the next UTC day.
    public var maxDailyDrawdownPct: Double
    /// `CIRCUIT_BREAKER_THRESHOLD_PCT`: loss from the all-time peak that halts risk-increasing
    /// orders until an operator reset.
    public var circuitBreakerThresholdPct: Double
    /// Largest acceptable expected slippage of an order, as a fraction of the price.
    public var maxSlippagePct: Double
    /// Prices older than this many seconds are stale.
    public var dataStaleTimeoutSec: TimeInterval

    /// Creates limits; the defaults are the project's decided values.
    public init(
        maxPositionPct: Double = 0.10,
        maxTotalExposurePct: Double = 0.30,
        maxDailyDrawdownPct: Double = 0.05,
        circuitBreakerThresholdPct: Double = 0.10,
        maxSlippagePct: Double = 0.01,
        dataStaleTimeoutSec: TimeInterval = 30
    ) {
        self.maxPositionPct = maxPositionPct
        self.maxTotalExposurePct = maxTotalExposurePct
        self.maxDailyDrawdownPct = maxDailyDrawdownPct
        self.circuitBreakerThresholdPct = circuitBreakerThresholdPct
        self.maxSlippagePct = maxSlippagePct
        self.dataStaleTimeoutSec = dataStaleTimeoutSec
    }

    /// Whether a single position of `notional` USD is allowed at `equity`.
    public func allowsPosition(notional: Double, equity: Double) -> Bool {
        LimitComparison.isWithin(notional, limit: maxPositionPct * equity)
    }

    /// Whether a total exposure of `exposure` USD is allowed at `equity`.
    public func allowsTotalExposure(_ exposure: Double, equity: Double) -> Bool {
        LimitComparison.isWithin(exposure, limit: maxTotalExposurePct * equity)
    }

    /// Whether a daily drawdown fraction reaches the day-halt limit.
    public func haltsForDay(dailyDrawdownPct: Double) -> Bool {
        LimitComparison.reaches(dailyDrawdownPct, limit: maxDailyDrawdownPct)
    }

    /// Whether a drawdown-from-peak fraction reaches the circuit-breaker threshold.
    public func tripsCircuitBreaker(drawdownFromPeakPct: Double) -> Bool {
        LimitComparison.reaches(drawdownFromPeakPct, limit: circuitBreakerThresholdPct)
    }

    /// Whether an expected slippage fraction is acceptable.
    public func allowsSlippage(_ slippagePct: Double) -> Bool {
        LimitComparison.isWithin(slippagePct, limit: maxSlippagePct)
    }

    /// Whether a price observed at `priceTime` is too old to act on at `now`.
    public func isStale(priceTime: Date, now: Date) -> Bool {
        LimitComparison.isStale(priceTime: priceTime, now: now, timeout: dataStaleTimeoutSec)
    }
}
