#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlainText

/// How large an order a signal gets.
///
/// BUY: target notional = equity × `targetPositionPct` × confidence (clamped to [0, 1]; a
/// non-finite confidence counts as 0), then cut so that after the
/// fill (including its slippage and fee, which lower equity) the symbol's position stays within
/// `maxPositionPct` and total exposure within `maxTotalExposurePct`; rejected when what remains
/// is below `minimumOrderNotional`. SELL: the whole long position (reduce-only), whatever its
/// size, so dust can always be closed; rejected with `nothingToReduce` when flat.
public struct PositionSizer: Codable, Sendable, Equatable {
    /// Fraction of equity a full-confidence signal asks for.
    public var targetPositionPct: Double
    /// Smallest BUY notional worth sending, in USD.
    public var minimumOrderNotional: Double

    /// Creates a sizer.
    public init(targetPositionPct: Double = 0.10, minimumOrderNotional: Double = 10) {
        self.targetPositionPct = targetPositionPct
        self.minimumOrderNotional = minimumOrderNotional
    }

    /// Sizes an order for `side` in `symbol` at `price`, valuing existing positions at the
    /// portfolio's marks. `reservedInSymbol` and `reservedTotal` are the notionals of BUYs already
    /// approved but not yet filled: they count against the limits as if they were held, and
    /// `reservedCost`, the equity their fills will consume (slippage and fee), as if it were spent.
    /// `reservedSellQuantity`: what SELLs in flight already sell of `symbol`; a SELL sells only the rest.
    public func size(
        side: OrderSide,
        symbol: String,
        confidence: Double,
        price: Double,
        portfolio: Portfolio,
        limits: RiskLimits,
        fillModel: PaperFillModel,
        reservedInSymbol: Double = 0,
        reservedTotal: Double = 0,
        reservedCost: Double = 0,
        reservedSellQuantity: Double = 0
    ) -> SizingOutcome {
        switch side {
        case .sell:
            let held = portfolio.positionSize(of: symbol)
            guard held > 0 else {
                return .rejected(.nothingToReduce, message: "no long position in \(symbol) to sell")
            }
            let available = held - reservedSellQuantity
            // Within rounding of the holding, the SELLs in flight already sell all of it.
            guard available > held * 1e-9 else {
                return .rejected(.nothingToReduce, message: "the \(symbol) position is already being sold by an order in flight")
            }
            return .order(quantity: available, notional: available * price)
        case .buy:
            return sizeBuy(
                symbol: symbol, confidence: confidence, price: price, portfolio: portfolio, limits: limits, fillModel: fillModel,
                reservedInSymbol: reservedInSymbol, reservedTotal: reservedTotal, reservedCost: reservedCost)
        }
    }

    private func sizeBuy(
        symbol: String,
        confidence: Double,
        price: Double,
        portfolio: Portfolio,
        limits: RiskLimits,
        fillModel: PaperFillModel,
        reservedInSymbol: Double,
        reservedTotal: Double,
        reservedCost: Double
    ) -> SizingOutcome {
        let equity = portfolio.equity - reservedCost
        let clampedConfidence = confidence.isFinite ? min(max(confidence, 0), 1) : 0
        let target = equity * targetPositionPct * clampedConfidence
        let cost = fillModel.costCoefficients(side: .buy)
        let positionRoom = Self.largestNotional(
            current: portfolio.positionNotional(of: symbol) + reservedInSymbol, limitPct: limits.maxPositionPct, equity: equity, cost: cost
        )
        let exposureRoom = Self.largestNotional(
            current: portfolio.totalExposure + reservedTotal, limitPct: limits.maxTotalExposurePct, equity: equity, cost: cost
        )
        let notional = min(target, positionRoom, exposureRoom)
        guard LimitComparison.isWithin(minimumOrderNotional, limit: notional) else {
            let message = "order notional \(max(notional, 0).fixed(2)) USD below minimum \(minimumOrderNotional.fixed(2)) USD "
                + "(target \(target.fixed(2)), position room \(positionRoom.fixed(2)), exposure room \(exposureRoom.fixed(2)))"
            let reason: RejectionReason = if notional == positionRoom && positionRoom < target {
                .positionLimit
            } else if notional == exposureRoom && exposureRoom < target {
                .totalExposureLimit
            } else {
                .belowMinimumNotional
            }
            return .rejected(reason, message: message)
        }
        return .order(quantity: notional / price, notional: notional)
    }

    /// Largest BUY notional n with `current + n ≤ limitPct × (equity − cost(n))`, where
    /// `cost(n) = linear·n + quadratic·n²` is the equity the fill itself consumes.
    /// That is `A·n² + B·n − C ≤ 0`; the positive root is written as `2C / (B + √(B² + 4AC))`,
    /// which stays exact when A is 0 and avoids cancellation when A is tiny.
    private static func largestNotional(
        current: Double,
        limitPct: Double,
        equity: Double,
        cost: (linear: Double, quadratic: Double)
    ) -> Double {
        let room = limitPct * equity - current
        guard room > 0 else { return 0 }
        let a = limitPct * cost.quadratic
        let b = 1 + limitPct * cost.linear
        return 2 * room / (b + (b * b + 4 * a * room).squareRoot())
    }
}

/// Result of `PositionSizer.size`.
public enum SizingOutcome: Sendable, Equatable {
    /// Send an order of `quantity` base units worth `notional` USD at the sizing price.
    case order(quantity: Double, notional: Double)
    /// Do not trade, for `reason`.
    case rejected(RejectionReason, message: String)
}
