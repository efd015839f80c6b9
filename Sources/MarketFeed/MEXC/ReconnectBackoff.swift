import Primitives

extension Backoff {
    /// MEXC's default: 0.5 s doubling to 30 s, up to half of each wait random.
    public static let mexcReconnect = Backoff(initialDelay: .milliseconds(500), maxDelay: .seconds(30), multiplier: 2, jitter: 0.5)

    /// What makes this backoff unusable as the feed's reconnect backoff, one line each.
    func reconnectProblems() -> [String] {
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
