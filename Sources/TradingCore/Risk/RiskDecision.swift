/// The risk engine's answer to a signal.
public enum RiskDecision: Sendable, Equatable {
    /// Send this order to execution.
    case approved(OrderRequest)
    /// Publish this rejection; nothing is traded.
    case rejected(RiskRejection)
}

/// How many signals the risk engine approved and rejected, by reason.
public struct RiskCounters: Codable, Sendable, Equatable {
    /// Signals turned into orders.
    public private(set) var approved = 0
    /// Rejected signals per reason (reasons never seen are absent).
    public private(set) var rejected: [RejectionReason: Int] = [:]

    /// Starts all counts at zero.
    public init() {}

    /// Rejections for one reason.
    public func rejections(for reason: RejectionReason) -> Int {
        rejected[reason] ?? 0
    }

    /// Rejections over all reasons.
    public var totalRejected: Int {
        rejected.values.reduce(0, +)
    }

    mutating func recordApproval() {
        approved += 1
    }

    mutating func recordRejection(_ reason: RejectionReason) {
        rejected[reason, default: 0] += 1
    }
}
