#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlainText

/// Simulated taker execution for paper trading: size-dependent slippage plus a taker fee.
///
/// `slippage = baseSlippagePct + impactCoefficient × notional / referenceNotional`; a BUY fills
/// at `market × (1 + slippage)`, a SELL at `market × (1 − slippage)`, and the fee is
/// `takerFeePct × fill notional`. With the defaults a 10,000 USD order slips 0.02 % + 0.05 % =
/// 0.07 % and pays 0.05 % fee. Orders fill completely or not at all.
public struct PaperFillModel: Codable, Sendable, Equatable {
    /// Slippage of an infinitesimally small order (half-spread), as a fraction.
    public var baseSlippagePct: Double
    /// Extra slippage per `referenceNotional` of order size, as a fraction.
    public var impactCoefficient: Double
    /// Order notional (USD) that costs exactly `impactCoefficient` extra slippage.
    public var referenceNotional: Double
    /// Taker fee as a fraction of the fill notional (MEXC spot taker: 0.05 %).
    public var takerFeePct: Double
    /// Market prices older than this many seconds are not filled against.
    public var staleAfterSec: TimeInterval

    /// Creates a fill model; defaults as documented on the type.
    public init(
        baseSlippagePct: Double = 0.0002,
        impactCoefficient: Double = 0.0005,
        referenceNotional: Double = 10_000,
        takerFeePct: Double = 0.0005,
        staleAfterSec: TimeInterval = 30
    ) {
        self.baseSlippagePct = baseSlippagePct
        self.impactCoefficient = impactCoefficient
        self.referenceNotional = referenceNotional
        self.takerFeePct = takerFeePct
        self.staleAfterSec = staleAfterSec
    }

    /// Slippage fraction an order of `notional` USD suffers.
    public func slippagePct(notional: Double) -> Double {
        baseSlippagePct + impactCoefficient * abs(notional) / referenceNotional
    }

    /// Equity lost to slippage and fee when trading `notional` USD (valued at the market price):
    /// `notional × (slippage + fee × (1 ± slippage))`.
    public func executionCost(notional: Double, side: OrderSide) -> Double {
        let coefficients = costCoefficients(side: side)
        return coefficients.linear * notional + coefficients.quadratic * notional * notional
    }

    /// `executionCost` as `linear × n + quadratic × n²`, the form the sizer solves in closed form.
    func costCoefficients(side: OrderSide) -> (linear: Double, quadratic: Double) {
        // A BUY's fee is charged on the marked-up notional, a SELL's on the marked-down one.
        let feeFactor = side == .buy ? 1 + takerFeePct : 1 - takerFeePct
        return (
            linear: takerFeePct + baseSlippagePct * feeFactor,
            quadratic: feeFactor * impactCoefficient / referenceNotional
        )
    }

    /// Executes `order` against the latest market `quote`. Rejects — never invents a price —
    /// when the quote is missing, unusable or older than `staleAfterSec`, when the order itself was
    /// priced longer ago than that (it waited, e.g. while execution was stopped: the decision is
    /// old news), when the quantity is not positive, or when slippage would exceed `order.maxSlippagePct`.
    public func fill(_ order: OrderRequest, quote: PriceQuote?, now: Date) -> OrderResult {
        guard order.quantity.isFinite, order.quantity > 0 else {
            return rejection(of: order, reason: .invalidQuantity, message: "quantity \(order.quantity) is not positive", now: now)
        }
        guard !LimitComparison.isStale(priceTime: order.priceTime, now: now, timeout: staleAfterSec) else {
            let age = now.timeIntervalSince(order.priceTime)
            return rejection(of: order, reason: .stalePrice, message: "order was priced \(age.fixed(3)) s ago (limit \(staleAfterSec.fixed(3)) s)", now: now)
        }
        guard let quote, quote.isUsable else {
            return rejection(of: order, reason: .invalidPrice, message: "no usable market price for \(order.symbol)", now: now)
        }
        guard !LimitComparison.isStale(priceTime: quote.time, now: now, timeout: staleAfterSec) else {
            let age = now.timeIntervalSince(quote.time)
            return rejection(of: order, reason: .stalePrice, message: "market price is \(age.fixed(3)) s old (limit \(staleAfterSec.fixed(3)) s)", now: now)
        }
        let slippage = slippagePct(notional: order.quantity * quote.price)
        guard LimitComparison.isWithin(slippage, limit: order.maxSlippagePct) else {
            return rejection(
                of: order,
                reason: .slippageLimit,
                message: "slippage \((slippage * 100).fixed(4)) % exceeds the order maximum \((order.maxSlippagePct * 100).fixed(4)) %",
                now: now,
                slippagePct: slippage
            )
        }
        let fillPrice = order.side == .buy ? quote.price * (1 + slippage) : quote.price * (1 - slippage)
        return OrderResult(
            id: EventID.derived(from: "order-result", order.id),
            orderId: order.id,
            symbol: order.symbol,
            side: order.side,
            status: .filled,
            requestedQuantity: order.quantity,
            filledQuantity: order.quantity,
            fillPrice: fillPrice,
            fee: takerFeePct * order.quantity * fillPrice,
            slippagePct: slippage,
            reason: nil,
            message: nil,
            eventTime: now,
            originTickId: order.originTickId
        )
    }

    private func rejection(
        of order: OrderRequest,
        reason: RejectionReason,
        message: String,
        now: Date,
        slippagePct: Double = 0
    ) -> OrderResult {
        OrderResult(
            id: EventID.derived(from: "order-result", order.id),
            orderId: order.id,
            symbol: order.symbol,
            side: order.side,
            status: .rejected,
            requestedQuantity: order.quantity,
            filledQuantity: 0,
            fillPrice: nil,
            fee: 0,
            slippagePct: slippagePct,
            reason: reason,
            message: message,
            eventTime: now,
            originTickId: order.originTickId
        )
    }
}
