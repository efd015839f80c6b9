#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlainText

/// Pre-trade risk control and the account it protects.
///
/// A value type with mutating methods. Its account (portfolio, day start, peak, halts, reservations) is
/// `Codable`, so a service can persist it after every change and resume after a restart with identical
/// decisions; its policy (limits, sizing, fill model) is not saved: it comes from the settings at every
/// start (`RiskPolicy`, passed to the decoder), so a changed limit applies. The engine never reads the
/// clock: every method takes the current time, which makes day rollovers testable.
///
/// Rules (limits are inclusive, see `RiskLimits` and `LimitComparison`):
/// - Equity is marked to market on every `mark`; the all-time peak and the UTC day-start equity
///   are tracked from it.
/// - Daily drawdown `(dayStart − equity) / dayStart` reaching `maxDailyDrawdownPct` sets
///   DAY_HALTED until the first event of the next UTC day, which resets the day start to the
///   equity at that moment (computed from the marks known before that event's own price).
/// - Drawdown from peak reaching `circuitBreakerThresholdPct` sets HALTED until
///   `resetCircuitBreaker(at:)`; day rollovers do not clear it.
/// - While DAY_HALTED or HALTED only reducing orders (SELL of an existing long) pass.
/// - Stale or unusable prices, oversized slippage and positions/exposure beyond their limits
///   are rejected; BUYs are sized down to fit (see `PositionSizer`).
public struct RiskEngine: Codable, Sendable, Equatable {
    /// Limits enforced.
    public private(set) var limits: RiskLimits
    /// Sizing policy for approved signals.
    public private(set) var sizer: PositionSizer
    /// Execution cost model used to predict slippage and fees.
    public private(set) var fillModel: PaperFillModel
    /// The account.
    public private(set) var portfolio: Portfolio
    /// Equity at the start of the current UTC day.
    public private(set) var dayStartEquity: Double
    /// Highest equity seen since start or the last circuit-breaker reset.
    public private(set) var peakEquity: Double
    /// Days since 1970-01-01 of the latest UTC day the engine has seen.
    public private(set) var currentUTCDay: Int64
    /// Whether the daily drawdown limit was reached today.
    public private(set) var isDayHalted: Bool
    /// Whether the circuit breaker has tripped and awaits an operator reset.
    public private(set) var isCircuitBreakerTripped: Bool
    /// Id of the latest tick that marked the portfolio.
    public private(set) var lastTickId: String?
    /// Approval and rejection counts.
    public private(set) var counters: RiskCounters
    /// BUY notionals approved but not yet filled or rejected, by order id. They count against the
    /// limits: otherwise two signals in quick succession could each use the same room.
    public private(set) var pendingBuys: [String: PendingBuy] = [:]
    /// SELL quantities ordered but not yet filled or rejected, by order id. A later SELL (signal or drift
    /// reduction) sees only what is held beyond them, so no order sells what another already sells.
    public private(set) var pendingSells: [String: PendingSell] = [:]

    /// Creates an engine with a fresh account of `startingCapital` USD; `startedAt` fixes the
    /// first UTC day.
    public init(
        limits: RiskLimits = RiskLimits(),
        sizer: PositionSizer = PositionSizer(),
        fillModel: PaperFillModel = PaperFillModel(),
        startingCapital: Double = 100_000,
        startedAt: Date
    ) {
        self.limits = limits
        self.sizer = sizer
        self.fillModel = fillModel
        self.portfolio = Portfolio(startingCapital: startingCapital)
        self.dayStartEquity = startingCapital
        self.peakEquity = startingCapital
        self.currentUTCDay = UTCCalendar.dayNumber(of: startedAt)
        self.isDayHalted = false
        self.isCircuitBreakerTripped = false
        self.lastTickId = nil
        self.counters = RiskCounters()
    }

    /// The rules it judges by; what a restart takes from the settings.
    public var policy: RiskPolicy {
        get { RiskPolicy(limits: limits, sizer: sizer, fillModel: fillModel) }
        set {
            limits = newValue.limits
            sizer = newValue.sizer
            fillModel = newValue.fillModel
        }
    }

    /// SELL quantity of `symbol` already ordered and not yet executed.
    public func reservedSellQuantity(of symbol: String) -> Double {
        pendingSells.values.filter { $0.symbol == symbol }.reduce(0) { $0 + $1.quantity }
    }

    /// HALTED beats DAY_HALTED beats ACTIVE.
    public var tradingState: TradingState {
        if isCircuitBreakerTripped { return .halted }
        if isDayHalted { return .dayHalted }
        return .active
    }

    /// Loss since the UTC day start as a fraction of day-start equity; 0 when up.
    public var dailyDrawdownPct: Double {
        Self.drawdown(from: dayStartEquity, to: portfolio.equity)
    }

    /// Loss from peak equity as a fraction of the peak; 0 at a new peak.
    public var drawdownFromPeakPct: Double {
        Self.drawdown(from: peakEquity, to: portfolio.equity)
    }

    /// Marks `symbol` at `price` observed at `time` (which is also the engine's "now"), then
    /// re-evaluates the drawdown rules. Unusable prices and prices older than the current mark
    /// are ignored, but the clock still advances.
    public mutating func mark(symbol: String, price: Double, at time: Date, tickId: String? = nil) {
        advanceClock(to: time)
        if portfolio.mark(symbol: symbol, quote: PriceQuote(price: price, time: time, tickId: tickId)), let tickId {
            lastTickId = tickId
        }
        observeEquity()
    }

    /// Marks the portfolio with a market tick.
    public mutating func mark(_ tick: MarketTick) {
        mark(symbol: tick.symbol, price: tick.price, at: tick.eventTime, tickId: tick.id)
    }

    /// Decides whether `signal` becomes an order.
    ///
    /// The signal's price must be usable and fresh at `now`; it then marks the symbol (unless a
    /// newer mark exists, in which case the order uses that newer real price). BUYs need state
    /// ACTIVE and are sized by `sizer`; SELLs close the whole long position and pass in every
    /// state. Every order's expected slippage must be within `maxSlippagePct`.
    public mutating func evaluate(signal: TradingSignal, now: Date) -> RiskDecision {
        advanceClock(to: now)
        let signalQuote = PriceQuote(price: signal.price, time: signal.priceTime, tickId: signal.originTickId)
        guard signalQuote.isUsable else {
            return reject(signal, .invalidPrice, "signal price \(signal.price) is not a positive finite number", now: now)
        }
        guard !limits.isStale(priceTime: signal.priceTime, now: now) else {
            let message = "signal price is \(now.timeIntervalSince(signal.priceTime).fixed(3)) s old (limit \(limits.dataStaleTimeoutSec.fixed(3)) s)"
            return reject(signal, .stalePrice, message, now: now)
        }
        portfolio.mark(symbol: signal.symbol, quote: signalQuote)
        observeEquity()

        if signal.side == .buy {
            switch tradingState {
            case .active:
                break
            case .dayHalted:
                let message = "daily drawdown \((dailyDrawdownPct * 100).fixed(4)) % reached the limit; only reducing orders until 00:00 UTC"
                return reject(signal, .dailyDrawdownHalt, message, now: now)
            case .halted:
                let message = "circuit breaker tripped (drawdown from peak \((drawdownFromPeakPct * 100).fixed(4)) %); only reducing orders until reset"
                return reject(signal, .circuitBreakerHalt, message, now: now)
            }
        }

        // The mark is at least as new as the signal's price, and both are real observations.
        let quote = portfolio.marks[signal.symbol] ?? signalQuote
        let sizing = sizer.size(
            side: signal.side,
            symbol: signal.symbol,
            confidence: signal.confidence,
            price: quote.price,
            portfolio: portfolio,
            limits: limits,
            fillModel: fillModel,
            reservedInSymbol: pendingBuys.values.filter { $0.symbol == signal.symbol }.reduce(0) { $0 + $1.notional },
            reservedTotal: pendingBuys.values.reduce(0) { $0 + $1.notional },
            reservedCost: pendingBuys.values.reduce(0) { $0 + fillModel.executionCost(notional: $1.notional, side: .buy) },
            reservedSellQuantity: reservedSellQuantity(of: signal.symbol)
        )
        switch sizing {
        case let .rejected(reason, message):
            return reject(signal, reason, message, now: now)
        case let .order(quantity, notional):
            let slippage = fillModel.slippagePct(notional: notional)
            guard limits.allowsSlippage(slippage) else {
                let message = "expected slippage \((slippage * 100).fixed(4)) % exceeds the limit \((limits.maxSlippagePct * 100).fixed(4)) %"
                return reject(signal, .slippageLimit, message, now: now)
            }
            counters.recordApproval()
            let orderID = EventID.derived(from: "order", signal.id)
            switch signal.side {
            case .buy: pendingBuys[orderID] = PendingBuy(symbol: signal.symbol, notional: notional)
            case .sell: pendingSells[orderID] = PendingSell(symbol: signal.symbol, quantity: quantity)
            }
            return .approved(OrderRequest(
                id: orderID,
                signalId: signal.id,
                symbol: signal.symbol,
                side: signal.side,
                quantity: quantity,
                referencePrice: quote.price,
                priceTime: quote.time,
                maxSlippagePct: limits.maxSlippagePct,
                reduceOnly: signal.side == .sell,
                eventTime: now,
                originTickId: signal.originTickId
            ))
        }
    }

    /// Books an execution result into the portfolio (rejections change nothing) and
    /// re-evaluates the drawdown rules, since fees lower equity.
    public mutating func apply(fill: OrderResult, now: Date) -> [ClosedTrade] {
        advanceClock(to: now)
        pendingBuys[fill.orderId] = nil
        pendingSells[fill.orderId] = nil
        let trades = portfolio.apply(fill)
        observeEquity()
        return trades
    }

    /// Operator action: clears HALTED and restarts peak tracking at the current equity.
    /// DAY_HALTED is re-evaluated and may still apply.
    public mutating func resetCircuitBreaker(at now: Date) {
        advanceClock(to: now)
        isCircuitBreakerTripped = false
        peakEquity = portfolio.equity
        observeEquity()
    }

    /// The account and risk state as of `now`, including a day rollover that is due but not
    /// yet triggered by an event. The id derives from `now` and `sequence` (a service numbers its
    /// snapshots, so two of the same instant, a fill's and the hourly one, keep both).
    public func snapshot(now: Date, sequence: Int? = nil) -> PortfolioSnapshot {
        var projected = self
        projected.advanceClock(to: now)
        return projected.currentSnapshot(now: now, sequence: sequence)
    }

    /// Reduce-only SELL orders that bring positions back within `maxPositionPct` and total
    /// exposure back within `maxTotalExposurePct` after prices moved.
    ///
    /// Sales are sized with a worst-case cost of `takerFeePct + maxSlippagePct` per USD sold,
    /// so the limits still hold after their slippage and fees, and each is at least
    /// `minimumOrderNotional` (capped at the position) so a position drifting just past its
    /// limit is not trimmed by cents every tick. Total-exposure excess is taken from the
    /// positions pro rata. Positions whose mark is stale are left alone: with no fresh price
    /// there is nothing to size against, and so are those with a SELL in flight: it is reserved,
    /// and the next tick after its fill decides again (otherwise every tick while cdb_execution
    /// is away would add one more sale, all filling when it returns). Each order is reserved
    /// like an approved SELL. Orders are sorted by symbol; ids derive from the symbol and `now`.
    public mutating func driftReductions(now: Date) -> [OrderRequest] {
        // The common case — nothing drifted — is settled first and cheaply: this runs every tick.
        let equity = portfolio.equity
        guard !limits.allowsTotalExposure(portfolio.totalExposure, equity: equity)
            || portfolio.openPositions.contains(where: { !limits.allowsPosition(notional: portfolio.notional(of: $0), equity: equity) })
        else { return [] }
        let fresh = portfolio.openPositions.compactMap { position -> DriftCandidate? in
            guard let quote = portfolio.marks[position.symbol], !limits.isStale(priceTime: quote.time, now: now),
                  reservedSellQuantity(of: position.symbol) == 0
            else { return nil }
            return DriftCandidate(position: position, quote: quote, notional: portfolio.notional(of: position))
        }
        let sales = driftSales(notionals: fresh.map(\.notional))
        var orders: [OrderRequest] = []
        for (candidate, sale) in zip(fresh, sales) where sale > 0 {
            let id = EventID.derived(from: "drift-reduction", candidate.position.symbol, EventCoding.timestamp(now))
            orders.append(OrderRequest(
                id: id,
                signalId: nil,
                symbol: candidate.position.symbol,
                side: .sell,
                // Rounding in sale / price could exceed the holding by an ulp.
                quantity: min(sale / candidate.quote.price, candidate.position.size),
                referencePrice: candidate.quote.price,
                priceTime: candidate.quote.time,
                maxSlippagePct: limits.maxSlippagePct,
                reduceOnly: true,
                eventTime: now,
                originTickId: candidate.quote.tickId ?? id
            ))
        }
        for order in orders { pendingSells[order.id] = PendingSell(symbol: order.symbol, quantity: order.quantity) }
        return orders
    }

    /// USD to sell from each of the positions with the given `notionals` (0 = leave alone).
    private func driftSales(notionals: [Double]) -> [Double] {
        let equity = portfolio.equity
        let exposure = portfolio.totalExposure
        let costPerUSD = fillModel.takerFeePct + limits.maxSlippagePct
        // Every sale's cost lowers equity and with it every other limit, so the sales are sized
        // together by fixed-point iteration. Each pass moves the others' requirements by only
        // maxPct × costPerUSD (about 0.1 %) of the previous change, so a few passes settle it.
        var sales = Array(repeating: 0.0, count: notionals.count)
        for _ in 0..<8 {
            let planned = sales.reduce(0, +)
            var next = sales
            for index in notionals.indices {
                let equityAfterOthers = equity - costPerUSD * (planned - sales[index])
                let equityAfterAll = equityAfterOthers - costPerUSD * sales[index]
                if !limits.allowsPosition(notional: notionals[index] - sales[index], equity: equityAfterAll) {
                    next[index] = (notionals[index] - limits.maxPositionPct * equityAfterOthers)
                        / (1 - limits.maxPositionPct * costPerUSD)
                }
            }
            let nextPlanned = next.reduce(0, +)
            let equityAfter = equity - costPerUSD * nextPlanned
            let exposureAfter = exposure - nextPlanned
            if !limits.allowsTotalExposure(exposureAfter, equity: equityAfter) {
                let excess = (exposureAfter - limits.maxTotalExposurePct * equityAfter)
                    / (1 - limits.maxTotalExposurePct * costPerUSD)
                let remaining = zip(notionals, next).map { $0 - $1 }
                let remainingTotal = remaining.reduce(0, +)
                if remainingTotal > 0 {
                    for index in next.indices {
                        next[index] += excess * remaining[index] / remainingTotal
                    }
                }
            }
            for index in next.indices where next[index] > 0 {
                next[index] = min(max(next[index], sizer.minimumOrderNotional), notionals[index])
            }
            if next == sales { break }
            sales = next
        }
        return sales
    }

    private mutating func advanceClock(to now: Date) {
        let day = UTCCalendar.dayNumber(of: now)
        guard day > currentUTCDay else { return }
        currentUTCDay = day
        dayStartEquity = portfolio.equity
        isDayHalted = false
    }

    private mutating func observeEquity() {
        let equity = portfolio.equity
        peakEquity = max(peakEquity, equity)
        if limits.tripsCircuitBreaker(drawdownFromPeakPct: Self.drawdown(from: peakEquity, to: equity)) {
            isCircuitBreakerTripped = true
        }
        if limits.haltsForDay(dailyDrawdownPct: Self.drawdown(from: dayStartEquity, to: equity)) {
            isDayHalted = true
        }
    }

    private mutating func reject(_ signal: TradingSignal, _ reason: RejectionReason, _ message: String, now: Date) -> RiskDecision {
        counters.recordRejection(reason)
        return .rejected(RiskRejection(
            id: EventID.derived(from: "risk-rejection", signal.id),
            signalId: signal.id,
            symbol: signal.symbol,
            side: signal.side,
            reason: reason,
            message: message,
            eventTime: now,
            originTickId: signal.originTickId
        ))
    }

    private func currentSnapshot(now: Date, sequence: Int?) -> PortfolioSnapshot {
        let equity = portfolio.equity
        let exposure = portfolio.totalExposure
        let id = EventID.derived(from: ["portfolio-snapshot", EventCoding.timestamp(now)] + (sequence.map { [String($0)] } ?? []))
        let positions = portfolio.openPositions.map { position in
            PositionSnapshot(
                symbol: position.symbol,
                size: position.size,
                entryPrice: position.entryPrice,
                currentPrice: portfolio.valuationPrice(of: position),
                unrealizedPnl: portfolio.unrealizedPnl(of: position)
            )
        }
        return PortfolioSnapshot(
            id: id,
            eventTime: now,
            originTickId: lastTickId ?? id,
            equity: equity,
            cash: portfolio.cash,
            totalExposure: exposure,
            // A JSON number cannot be infinite; equity ≤ 0 means the account is wiped out anyway.
            totalExposurePct: equity > 0 ? exposure / equity : 0,
            dailyDrawdownPct: dailyDrawdownPct,
            drawdownFromPeakPct: drawdownFromPeakPct,
            realizedPnl: portfolio.realizedPnl,
            unrealizedPnl: portfolio.unrealizedPnl,
            openPositions: positions.count,
            tradingState: tradingState,
            positions: positions
        )
    }

    private static func drawdown(from reference: Double, to equity: Double) -> Double {
        // With no positive reference there is no meaningful fraction; report no drawdown
        // rather than NaN, which would make every limit comparison silently false.
        guard reference > 0 else { return 0 }
        return max(0, (reference - equity) / reference)
    }
}

/// A position with a fresh mark that drift reductions may trim.
private struct DriftCandidate {
    let position: Position
    let quote: PriceQuote
    let notional: Double
}

/// A BUY approved and not yet executed: its notional is reserved against the limits.
public struct PendingBuy: Codable, Sendable, Equatable {
    public var symbol: String
    public var notional: Double
}

/// A SELL ordered and not yet executed: its quantity is no longer available to another SELL.
public struct PendingSell: Codable, Sendable, Equatable {
    public var symbol: String
    public var quantity: Double
}

/// What the engine judges by, from the settings at every start: never saved with the account.
public struct RiskPolicy: Codable, Sendable, Equatable {
    public var limits: RiskLimits
    public var sizer: PositionSizer
    public var fillModel: PaperFillModel

    public init(limits: RiskLimits = RiskLimits(), sizer: PositionSizer = PositionSizer(), fillModel: PaperFillModel = PaperFillModel()) {
        self.limits = limits
        self.sizer = sizer
        self.fillModel = fillModel
    }

    /// The decoder's `userInfo` key under which a saved engine finds its policy.
    public static let decodingKey = CodingUserInfoKey(rawValue: "cdb.risk-policy")!

    /// What differs from `other`, one `NAME old → new` per setting; empty when nothing does.
    public func changes(since other: RiskPolicy) -> [String] {
        let pairs: [(String, Double, Double)] = [
            ("MAX_POSITION_PCT", other.limits.maxPositionPct, limits.maxPositionPct),
            ("MAX_TOTAL_EXPOSURE_PCT", other.limits.maxTotalExposurePct, limits.maxTotalExposurePct),
            ("MAX_DAILY_DRAWDOWN_PCT", other.limits.maxDailyDrawdownPct, limits.maxDailyDrawdownPct),
            ("CIRCUIT_BREAKER_THRESHOLD_PCT", other.limits.circuitBreakerThresholdPct, limits.circuitBreakerThresholdPct),
            ("MAX_SLIPPAGE_PCT", other.limits.maxSlippagePct, limits.maxSlippagePct),
            ("DATA_STALE_TIMEOUT_SEC", other.limits.dataStaleTimeoutSec, limits.dataStaleTimeoutSec),
            ("TAKER_FEE_PCT", other.fillModel.takerFeePct, fillModel.takerFeePct),
            ("SLIPPAGE_BASE_PCT", other.fillModel.baseSlippagePct, fillModel.baseSlippagePct),
            ("SLIPPAGE_IMPACT_PCT", other.fillModel.impactCoefficient, fillModel.impactCoefficient),
        ]
        var changes = pairs.filter { $0.1 != $0.2 }.map { "\($0.0) \($0.1) → \($0.2)" }
        if sizer != other.sizer { changes.append("position sizing \(other.sizer) → \(sizer)") }
        return changes
    }
}

extension RiskEngine {
    private enum CodingKeys: String, CodingKey {
        case portfolio, dayStartEquity, peakEquity, currentUTCDay, isDayHalted, isCircuitBreakerTripped, lastTickId, counters
        case pendingBuys, pendingSells
    }

    /// Decodes a saved account; the policy comes from `decoder.userInfo[RiskPolicy.decodingKey]`, and without
    /// one decoding fails (an account judged by made-up default limits would be worse than none).
    public init(from decoder: any Decoder) throws {
        guard let policy = decoder.userInfo[RiskPolicy.decodingKey] as? RiskPolicy else {
            throw DecodingError.valueNotFound(RiskPolicy.self, .init(
                codingPath: decoder.codingPath, debugDescription: "a saved risk account is decoded with the policy from the settings"))
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        limits = policy.limits
        sizer = policy.sizer
        fillModel = policy.fillModel
        portfolio = try container.decode(Portfolio.self, forKey: .portfolio)
        dayStartEquity = try container.decode(Double.self, forKey: .dayStartEquity)
        peakEquity = try container.decode(Double.self, forKey: .peakEquity)
        currentUTCDay = try container.decode(Int64.self, forKey: .currentUTCDay)
        isDayHalted = try container.decode(Bool.self, forKey: .isDayHalted)
        isCircuitBreakerTripped = try container.decode(Bool.self, forKey: .isCircuitBreakerTripped)
        lastTickId = try container.decodeIfPresent(String.self, forKey: .lastTickId)
        counters = try container.decode(RiskCounters.self, forKey: .counters)
        pendingBuys = try container.decode([String: PendingBuy].self, forKey: .pendingBuys)
        // States saved before SELLs were reserved have none.
        pendingSells = try container.decodeIfPresent([String: PendingSell].self, forKey: .pendingSells) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(portfolio, forKey: .portfolio)
        try container.encode(dayStartEquity, forKey: .dayStartEquity)
        try container.encode(peakEquity, forKey: .peakEquity)
        try container.encode(currentUTCDay, forKey: .currentUTCDay)
        try container.encode(isDayHalted, forKey: .isDayHalted)
        try container.encode(isCircuitBreakerTripped, forKey: .isCircuitBreakerTripped)
        try container.encodeIfPresent(lastTickId, forKey: .lastTickId)
        try container.encode(counters, forKey: .counters)
        try container.encode(pendingBuys, forKey: .pendingBuys)
        try container.encode(pendingSells, forKey: .pendingSells)
    }
}
