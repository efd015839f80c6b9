/// Direction of an order, signal or aggressive trade.
public enum OrderSide: String, Codable, Sendable, CaseIterable {
    /// Acquire the base asset.
    case buy = "BUY"
    /// Dispose of the base asset.
    case sell = "SELL"
}

/// Direction of a held position; the spot account is long-only, so there is one case.
public enum PositionSide: String, Codable, Sendable {
    /// Holding the base asset.
    case long
}

/// Where a market tick came from.
public enum TickSource: String, Codable, Sendable {
    /// Live MEXC trade stream.
    case mexc
    /// Historical data replayed from a file.
    case replay
    /// The built-in `SyntheticPriceWalk` demo feed.
    case synthetic
    /// `cdbctl`'s event-flow probe: acknowledged by cdb_core like any tick, never traded on.
    case probe
}

/// Whether the risk engine lets risk-increasing orders through.
public enum TradingState: String, Codable, Sendable {
    /// All rules evaluated normally.
    case active = "ACTIVE"
    /// Daily drawdown limit reached: no BUY until the next UTC day.
    case dayHalted = "DAY_HALTED"
    /// Circuit breaker tripped: no BUY until an operator resets it.
    case halted = "HALTED"
}

/// Outcome of an execution attempt.
public enum OrderStatus: String, Codable, Sendable {
    /// Fully filled.
    case filled = "FILLED"
    /// Not executed; nothing changed hands.
    case rejected = "REJECTED"
}

/// Machine-readable reason why a signal or order was not executed.
public enum RejectionReason: String, Codable, Sendable, CaseIterable, CodingKeyRepresentable {
    /// The price is older than the staleness timeout.
    case stalePrice = "STALE_PRICE"
    /// The symbol's position is already at its notional limit.
    case positionLimit = "POSITION_LIMIT"
    /// Total open exposure is already at its limit.
    case totalExposureLimit = "TOTAL_EXPOSURE_LIMIT"
    /// Trading state is DAY_HALTED and the order would add risk.
    case dailyDrawdownHalt = "DAILY_DRAWDOWN_HALT"
    /// Trading state is HALTED and the order would add risk.
    case circuitBreakerHalt = "CIRCUIT_BREAKER_HALT"
    /// Expected slippage exceeds the allowed maximum.
    case slippageLimit = "SLIPPAGE_LIMIT"
    /// A SELL arrived for a symbol with no long position.
    case nothingToReduce = "NOTHING_TO_REDUCE"
    /// The order that fits the limits is smaller than the minimum order notional.
    case belowMinimumNotional = "BELOW_MINIMUM_NOTIONAL"
    /// The price is missing, non-finite or not positive.
    case invalidPrice = "INVALID_PRICE"
    /// The order quantity is non-finite or not positive (execution-side guard).
    case invalidQuantity = "INVALID_QUANTITY"
}
