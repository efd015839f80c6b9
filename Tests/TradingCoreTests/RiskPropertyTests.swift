import Foundation
import Testing
import TradingCore

/// Randomized check of the engine's core promises over 2,000 seeded price paths of 300 ticks,
/// with random signals, fills and drift reductions. Paths start at 23:35 UTC so every one
/// crosses a day rollover.
@Suite("Risk invariants over random price paths", .serialized)
struct RiskPropertyTests {
    private static let chunkCount = 8
    private static let pathsPerChunk = 250
    private static let ticksPerPath = 300
    private static let symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    private static let start = TestClock.at(-25 * 60)

    /// Tallies kept across a chunk; violations are collected and reported once, because
    /// hundreds of thousands of individual expectations would dominate the run time.
    private struct Tally {
        var approvedBuys = 0
        var approvedSells = 0
        var dayHaltRejections = 0
        var circuitBreakerRejections = 0
        var driftOrders = 0
        var violations: [String] = []
    }

    @Test(
        "accepted orders never push a position or total exposure past its limit, and no BUY passes while halted",
        arguments: 0..<chunkCount
    )
    func invariantsHold(chunk: Int) {
        var tally = Tally()
        for path in 0..<Self.pathsPerChunk {
            runPath(seed: UInt64(chunk * Self.pathsPerChunk + path), tally: &tally)
        }
        #expect(tally.violations.isEmpty, "\(tally.violations.count) violations, first: \(tally.violations.prefix(3))")
        #expect(tally.approvedBuys > 0 && tally.approvedSells > 0)
        #expect(tally.dayHaltRejections > 0 && tally.circuitBreakerRejections > 0, "the paths should exercise DAY_HALTED and HALTED")
        #expect(tally.driftOrders > 0, "the paths should exercise drift reductions")
    }

    private func runPath(seed: UInt64, tally: inout Tally) {
        var random = SplitMix64(seed: seed)
        var engine = RiskEngine(startedAt: Self.start)
        let limits = engine.limits
        var prices = [50_000.0, 3_000, 150]
        let volatility = 0.001 + random.nextUnitDouble() * 0.01
        // One path in four crashes, so DAY_HALTED and HALTED are exercised, not just possible.
        let isCrash = random.nextUnitDouble() < 0.25
        let trend = isCrash ? -volatility : (random.nextUnitDouble() - 0.5) * 0.2 * volatility
        var time = Self.start

        for tickIndex in 0..<Self.ticksPerPath {
            time += 10
            // Round-robin marking: each symbol moves and is marked every 30 s, so no mark is
            // ever older than 20 s when drift reductions or signals look at it.
            let moved = tickIndex % prices.count
            prices[moved] *= 1 + trend + volatility * (2 * random.nextUnitDouble() - 1) * 1.732
            engine.mark(symbol: Self.symbols[moved], price: prices[moved], at: time)

            let drift = engine.driftReductions(now: time)
            tally.driftOrders += drift.count
            for order in drift {
                fill(order, in: &engine, at: time)
            }
            if !drift.isEmpty { checkLimitsHold(engine, tally: &tally) }

            guard random.nextUnitDouble() < 0.4 else { continue }
            let index = Int(random.next() % UInt64(prices.count))
            let side: OrderSide = random.nextUnitDouble() < 0.7 ? .buy : .sell
            let signal = TradingSignal(
                id: "\(seed)-\(tickIndex)",
                symbol: Self.symbols[index],
                side: side,
                confidence: random.nextUnitDouble(),
                price: prices[index],
                strategy: "property",
                reason: "random",
                eventTime: time,
                originTickId: "tick",
                priceTime: time.addingTimeInterval(-random.nextUnitDouble() * 35)
            )
            let decision = engine.evaluate(signal: signal, now: time)
            guard let order = decision.order else {
                switch decision.rejectionReason {
                case .dailyDrawdownHalt: tally.dayHaltRejections += 1
                case .circuitBreakerHalt: tally.circuitBreakerRejections += 1
                default: break
                }
                continue
            }
            let symbol = order.symbol
            switch order.side {
            case .buy:
                tally.approvedBuys += 1
                if engine.tradingState != .active {
                    tally.violations.append("BUY approved in state \(engine.tradingState)")
                }
                // At acceptance: the position and exposure after the order, against the equity
                // left once the order's own slippage and fee are paid.
                let notional = order.quantity * order.referencePrice
                let equityAfter = engine.portfolio.equity - engine.fillModel.executionCost(notional: notional, side: .buy)
                let positionAfter = engine.portfolio.positionNotional(of: symbol) + notional
                let exposureAfter = engine.portfolio.totalExposure + notional
                if !limits.allowsPosition(notional: positionAfter, equity: equityAfter) {
                    tally.violations.append("accepted: \(symbol) position \(positionAfter) over limit at equity \(equityAfter)")
                }
                if !limits.allowsTotalExposure(exposureAfter, equity: equityAfter) {
                    tally.violations.append("accepted: exposure \(exposureAfter) over limit at equity \(equityAfter)")
                }
                // And once booked, the filled order's symbol and the total really are within limits.
                fill(order, in: &engine, at: time)
                let equity = engine.portfolio.equity
                if !limits.allowsPosition(notional: engine.portfolio.positionNotional(of: symbol), equity: equity)
                    || !limits.allowsTotalExposure(engine.portfolio.totalExposure, equity: equity) {
                    tally.violations.append("filled: \(symbol) BUY left a limit exceeded at equity \(equity)")
                }
            case .sell:
                tally.approvedSells += 1
                if !order.reduceOnly || order.quantity > engine.portfolio.positionSize(of: symbol) {
                    tally.violations.append("SELL \(order.quantity) is not a pure reduction")
                }
                fill(order, in: &engine, at: time)
            }
        }
    }

    private func fill(_ order: OrderRequest, in engine: inout RiskEngine, at time: Date) {
        let quote = PriceQuote(price: order.referencePrice, time: order.priceTime)
        _ = engine.apply(fill: engine.fillModel.fill(order, quote: quote, now: time), now: time)
    }

    /// Drift reductions promise every position and the total back within limits.
    private func checkLimitsHold(_ engine: RiskEngine, tally: inout Tally) {
        let portfolio = engine.portfolio
        let equity = portfolio.equity
        for position in portfolio.openPositions
        where !engine.limits.allowsPosition(notional: portfolio.notional(of: position), equity: equity) {
            tally.violations.append("drift: \(position.symbol) position \(portfolio.notional(of: position)) still over limit at equity \(equity)")
        }
        if !engine.limits.allowsTotalExposure(portfolio.totalExposure, equity: equity) {
            tally.violations.append("drift: exposure \(portfolio.totalExposure) still over limit at equity \(equity)")
        }
    }
}
