#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Inclusive limit comparisons that float rounding cannot flip.
///
/// Limits are inclusive maxima: a value exactly at its limit passes a "within" check and
/// triggers a "reaches" check. Values such as `0.1 * equity - position` carry rounding errors
/// of a few ulps, so "exactly at the limit" is judged with a relative tolerance of 1e-9
/// (0.0000001 %) — far below anything that matters in money, far above rounding noise.
public enum LimitComparison {
    /// Relative slack applied to the limit in `isWithin` and `reaches`.
    public static let relativeTolerance = 1e-9
    /// Absolute slack for price ages: Date arithmetic around 2026 has ~0.1 µs resolution, so an
    /// age of exactly the timeout can come out a fraction of a microsecond long.
    public static let timeTolerance: TimeInterval = 1e-6

    /// `value <= limit`, counting values within the tolerance above the limit as at the limit.
    public static func isWithin(_ value: Double, limit: Double) -> Bool {
        value <= limit + relativeTolerance * abs(limit)
    }

    /// `value >= limit`, counting values within the tolerance below the limit as at the limit.
    public static func reaches(_ value: Double, limit: Double) -> Bool {
        value >= limit - relativeTolerance * abs(limit)
    }

    /// True when the price observed at `priceTime` is older than `timeout` at `now`;
    /// an age of exactly `timeout` is still fresh.
    public static func isStale(priceTime: Date, now: Date, timeout: TimeInterval) -> Bool {
        now.timeIntervalSince(priceTime) > timeout + timeTolerance
    }
}
