import Foundation
import Testing
import TradingCore

/// Every rule exactly at, just below and just above its limit — first as a pure comparison,
/// then end to end through the engine.
@Suite("Risk limits at their boundaries")
struct RiskLimitBoundaryTests {
    private let limits = RiskLimits()

    @Test("position limit: 10 % of equity passes exactly, a cent over fails")
    func positionComparison() {
        #expect(limits.allowsPosition(notional: 9_999.99, equity: 100_000))
        #expect(limits.allowsPosition(notional: 10_000, equity: 100_000))
        #expect(!limits.allowsPosition(notional: 10_000.01, equity: 100_000))
        // 0.1 × 3 is 0.30000000000000004 in binary; the tolerance keeps it "exactly at" 0.3.
        #expect(limits.allowsTotalExposure(0.1 * 3 * 100_000, equity: 100_000))
    }

    @Test("total exposure limit: 30 % of equity passes exactly, a cent over fails")
    func exposureComparison() {
        #expect(limits.allowsTotalExposure(29_999.99, equity: 100_000))
        #expect(limits.allowsTotalExposure(30_000, equity: 100_000))
        #expect(!limits.allowsTotalExposure(30_000.01, equity: 100_000))
    }

    @Test("daily drawdown: exactly 5 % halts, just below does not")
    func dailyDrawdownComparison() {
        #expect(!limits.haltsForDay(dailyDrawdownPct: 0.04999))
        #expect(limits.haltsForDay(dailyDrawdownPct: 0.05))
        #expect(limits.haltsForDay(dailyDrawdownPct: (100_000 - 95_000) / 100_000.0))
        #expect(limits.haltsForDay(dailyDrawdownPct: 0.05001))
    }

    @Test("circuit breaker: exactly 10 % from peak trips, just below does not")
    func circuitBreakerComparison() {
        #expect(!limits.tripsCircuitBreaker(drawdownFromPeakPct: 0.09999))
        #expect(limits.tripsCircuitBreaker(drawdownFromPeakPct: 0.10))
        #expect(limits.tripsCircuitBreaker(drawdownFromPeakPct: 0.10001))
    }

    @Test("slippage: exactly 1 % passes, just above fails")
    func slippageComparison() {
        #expect(limits.allowsSlippage(0.00999))
        #expect(limits.allowsSlippage(0.01))
        #expect(!limits.allowsSlippage(0.01001))
    }

    @Test("price age: exactly 30 s is fresh, 1 ms more is stale")
    func stalenessComparison() {
        let now = TestClock.at(1_000)
        #expect(!limits.isStale(priceTime: now.addingTimeInterval(-29.999), now: now))
        #expect(!limits.isStale(priceTime: now.addingTimeInterval(-30), now: now))
        #expect(limits.isStale(priceTime: now.addingTimeInterval(-30.001), now: now))
    }

    // MARK: End to end through the engine

    /// Engine whose account holds the given USD notionals, bought at price 1 without costs,
    /// so equity is exactly 100,000 and the notionals are exact.
    private func engine(holding notionals: [String: Double], fills: PaperFillModel = frictionlessFills, limits: RiskLimits = RiskLimits()) -> RiskEngine {
        var engine = RiskEngine(limits: limits, fillModel: fills, startedAt: TestClock.dayStart)
        for (symbol, notional) in notionals.sorted(by: { $0.key < $1.key }) {
            _ = engine.apply(fill: makeFill(.buy, symbol: symbol, quantity: notional, price: 1), now: TestClock.at(0))
        }
        return engine
    }

    private func buyDecision(_ engine: inout RiskEngine, symbol: String) -> RiskDecision {
        engine.evaluate(signal: makeSignal(.buy, symbol: symbol, price: 1, at: TestClock.at(1)), now: TestClock.at(1))
    }

    @Test("engine: a BUY that lands exactly on the position limit passes; a cent less room is rejected")
    func positionLimitEndToEnd() {
        var atLimit = engine(holding: ["XUSDT": 9_990])
        let order = buyDecision(&atLimit, symbol: "XUSDT").order
        #expect(isClose(order?.quantity ?? -1, 10))  // lands on 10,000 = 10 % of 100,000

        var below = engine(holding: ["XUSDT": 9_989.99])
        #expect(isClose(buyDecision(&below, symbol: "XUSDT").order?.quantity ?? -1, 10.01))

        var above = engine(holding: ["XUSDT": 9_990.01])
        #expect(buyDecision(&above, symbol: "XUSDT").rejectionReason == .positionLimit)
    }

    @Test("engine: a BUY that lands exactly on the total exposure limit passes; a cent less room is rejected")
    func exposureLimitEndToEnd() {
        var atLimit = engine(holding: ["AUSDT": 10_000, "BUSDT": 10_000, "CUSDT": 9_990])
        #expect(isClose(buyDecision(&atLimit, symbol: "DUSDT").order?.quantity ?? -1, 10))

        var above = engine(holding: ["AUSDT": 10_000, "BUSDT": 10_000, "CUSDT": 9_990.01])
        #expect(buyDecision(&above, symbol: "DUSDT").rejectionReason == .totalExposureLimit)
    }

    /// Engine holding 1 BTC bought at 50,000 without costs (equity 100,000), then marked.
    private func btcEngine(markedAt price: Double, limits: RiskLimits = RiskLimits()) -> RiskEngine {
        var engine = RiskEngine(limits: limits, fillModel: frictionlessFills, startedAt: TestClock.dayStart)
        _ = engine.apply(fill: makeFill(.buy, quantity: 1, price: 50_000), now: TestClock.at(0))
        engine.mark(symbol: "BTCUSDT", price: price, at: TestClock.at(10))
        return engine
    }

    @Test("engine: equity down exactly 5 % on the day is DAY_HALTED, 1 USD less loss is not")
    func dailyDrawdownEndToEnd() {
        #expect(btcEngine(markedAt: 45_001).tradingState == .active)
        #expect(btcEngine(markedAt: 45_000).tradingState == .dayHalted)
        #expect(btcEngine(markedAt: 44_999).tradingState == .dayHalted)
    }

    @Test("engine: equity down exactly 10 % from peak is HALTED, 1 USD less loss is not")
    func circuitBreakerEndToEnd() {
        let loose = RiskLimits(maxDailyDrawdownPct: 0.5)
        var engine = RiskEngine(limits: loose, fillModel: frictionlessFills, startedAt: TestClock.dayStart)
        _ = engine.apply(fill: makeFill(.buy, quantity: 2, price: 50_000), now: TestClock.at(0))
        var justBelow = engine
        justBelow.mark(symbol: "BTCUSDT", price: 45_000.5, at: TestClock.at(10))
        #expect(justBelow.tradingState == .active)
        engine.mark(symbol: "BTCUSDT", price: 45_000, at: TestClock.at(10))
        #expect(engine.tradingState == .halted)
    }

    @Test("engine: a signal price exactly 30 s old is approved, 1 ms older is rejected as stale")
    func stalenessEndToEnd() {
        let now = TestClock.at(100)
        let cases: [(age: TimeInterval, reason: RejectionReason?)] = [(29.999, nil), (30, nil), (30.001, .stalePrice)]
        for (age, expectedReason) in cases {
            var engine = RiskEngine(startedAt: TestClock.dayStart)
            let signal = makeSignal(.buy, price: 50_000, at: now, priceTime: now.addingTimeInterval(-age))
            let decision = engine.evaluate(signal: signal, now: now)
            #expect(decision.rejectionReason == expectedReason, "age \(age) s")
            #expect((decision.order != nil) == (expectedReason == nil))
        }
    }

    @Test("engine: expected slippage exactly at the limit is approved, above it is rejected")
    func slippageEndToEnd() {
        let fills = PaperFillModel(baseSlippagePct: 0.001, impactCoefficient: 0, takerFeePct: 0)
        for (limit, approved) in [(0.0011, true), (0.001, true), (0.00099, false)] {
            var engine = engine(holding: [:], fills: fills, limits: RiskLimits(maxSlippagePct: limit))
            let decision = buyDecision(&engine, symbol: "XUSDT")
            #expect((decision.order != nil) == approved, "limit \(limit)")
            if !approved { #expect(decision.rejectionReason == .slippageLimit) }
        }
    }
}
