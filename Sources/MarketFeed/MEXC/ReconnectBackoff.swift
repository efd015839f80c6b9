/// Exponential backoff with jitter between reconnect attempts.
///
/// The n-th consecutive failure waits `min(maxDelay, initialDelay × multiplier^(n-1))`, reduced
/// by a random part of up to `jitter` of itself, so many clients that lost the server together
/// do not come back in lock-step.
public struct ReconnectBackoff: Sendable, Equatable {
    /// Wait after the first failure. Default 0.5 s; 1 ms … 1 min.
    public var initialDelay: Duration
    /// Upper bound of any wait. Default 30 s; at least `initialDelay`, at most 10 min.
    public var maxDelay: Duration
    /// Growth per failure. Default 2; 1 … 10.
    public var multiplier: Double
    /// Fraction of each wait that is random: 0 = none, 1 = "full jitter". Default 0.5; 0 … 1.
    public var jitter: Double

    /// Creates a backoff; every argument has the documented default.
    public init(
        initialDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(30),
        multiplier: Double = 2,
        jitter: Double = 0.5
    ) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The wait after `failures` consecutive failures (1 for the first).
    public func delay(afterFailures failures: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let exponent = Double(max(0, failures - 1))
        let capped = min(maxDelay.seconds, initialDelay.seconds * pow(multiplier, min(exponent, 64)))
        let randomPart = jitter > 0 ? Double.random(in: 0..<1, using: &random) * jitter : 0
        return .seconds(capped * (1 - randomPart))
    }

    func problems() -> [String] {
        var problems: [String] = []
        if initialDelay < .milliseconds(1) || initialDelay > .seconds(60) {
            problems.append("reconnectBackoff.initialDelay must be between 1 ms and 1 min, got \(initialDelay.readable)")
        }
        if maxDelay < initialDelay || maxDelay > .seconds(600) {
            problems.append("reconnectBackoff.maxDelay must be between initialDelay and 10 min, got \(maxDelay.readable)")
        }
        if !(1...10).contains(multiplier) {
            problems.append("reconnectBackoff.multiplier must be between 1 and 10, got \(multiplier)")
        }
        if !(0...1).contains(jitter) {
            problems.append("reconnectBackoff.jitter must be between 0 and 1, got \(jitter)")
        }
        return problems
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    // Integer exponents only (failures - 1); avoids pulling in libm for one call.
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 {
        result *= base
        remaining -= 1
        if result > 1e12 { break }
    }
    return result
}
