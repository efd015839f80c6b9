/// How long to wait before retrying something that failed (a reconnect, a publish): exponential, capped, with jitter.
///
/// The n-th consecutive failure waits `min(maxDelay, initialDelay × multiplier^(n-1))`, shortened by a random
/// part of up to `jitter` of itself, so clients that lost a server together do not come back in lock-step.
/// Every retry loop of the project uses this one type, each with its own figures.
public struct Backoff: Sendable, Equatable {
    /// Wait after the first failure.
    public var initialDelay: Duration
    /// Upper bound of any wait.
    public var maxDelay: Duration
    /// Growth per failure.
    public var multiplier: Double
    /// Fraction of each wait that is random: 0 = none, 1 = "full jitter".
    public var jitter: Double

    public init(initialDelay: Duration, maxDelay: Duration, multiplier: Double = 2, jitter: Double = 0) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The wait after `failures` consecutive failures (1 for the first).
    public func delay(afterFailures failures: Int) -> Duration {
        var random = SystemRandomNumberGenerator()
        return delay(afterFailures: failures, using: &random)
    }

    /// The wait after `failures` consecutive failures, drawing the jitter from `random`.
    public func delay(afterFailures failures: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let capped = min(maxDelay.seconds, initialDelay.seconds * power(multiplier, max(0, failures - 1)))
        let randomPart = jitter > 0 ? Double.random(in: 0..<1, using: &random) * jitter : 0
        return .seconds(capped * (1 - randomPart))
    }
}

/// `base^exponent` for the small whole exponents of a retry count; stops growing once far past any cap.
private func power(_ base: Double, _ exponent: Int) -> Double {
    var result = 1.0
    for _ in 0..<exponent {
        result *= base
        if result > 1e12 { break }
    }
    return result
}
