import Foundation
import TradingCore

/// Fixed test clock: 2026-01-01T00:00:00Z plus offsets, so day rollovers are explicit.
enum TestClock {
    static let dayStart = Date(timeIntervalSince1970: 1_767_225_600)

    static func at(_ seconds: TimeInterval) -> Date {
        dayStart.addingTimeInterval(seconds)
    }
}

/// A fill model without slippage or fees, for hand-computable sizing numbers.
let frictionlessFills = PaperFillModel(baseSlippagePct: 0, impactCoefficient: 0, takerFeePct: 0)

func isClose(_ lhs: Double, _ rhs: Double, tolerance: Double = 1e-9) -> Bool {
    abs(lhs - rhs) <= tolerance * max(1, abs(lhs), abs(rhs))
}

func makeTick(_ symbol: String = "BTCUSDT", price: Double, at time: Date, id: String? = nil) -> MarketTick {
    MarketTick(
        id: id ?? EventID.derived(from: "test-tick", symbol, EventCoding.timestamp(time), String(price)),
        symbol: symbol,
        price: price,
        quantity: 0.01,
        aggressorSide: .buy,
        eventTime: time,
        source: .replay
    )
}

func makeSignal(
    _ side: OrderSide,
    symbol: String = "BTCUSDT",
    price: Double,
    confidence: Double = 1,
    at time: Date,
    priceTime: Date? = nil,
    id: String = UUID().uuidString
) -> TradingSignal {
    TradingSignal(
        id: id,
        symbol: symbol,
        side: side,
        confidence: confidence,
        price: price,
        strategy: "test",
        reason: "test signal",
        eventTime: time,
        originTickId: "tick-\(id)",
        priceTime: priceTime ?? time
    )
}

func makeFill(
    _ side: OrderSide,
    symbol: String = "BTCUSDT",
    quantity: Double,
    price: Double,
    fee: Double = 0,
    at time: Date = TestClock.at(0),
    id: String = UUID().uuidString
) -> OrderResult {
    OrderResult(
        id: id,
        orderId: "order-\(id)",
        symbol: symbol,
        side: side,
        status: .filled,
        requestedQuantity: quantity,
        filledQuantity: quantity,
        fillPrice: price,
        fee: fee,
        slippagePct: 0,
        reason: nil,
        message: nil,
        eventTime: time,
        originTickId: "tick-\(id)"
    )
}

extension RiskDecision {
    var order: OrderRequest? {
        if case let .approved(order) = self { return order }
        return nil
    }

    var rejectionReason: RejectionReason? {
        if case let .rejected(rejection) = self { return rejection.reason }
        return nil
    }
}

extension SizingOutcome {
    var notional: Double? {
        if case let .order(_, notional) = self { return notional }
        return nil
    }

    var rejectionReason: RejectionReason? {
        if case let .rejected(reason, _) = self { return reason }
        return nil
    }
}
