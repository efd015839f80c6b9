import Foundation
import Testing
import TradingCore

@Suite("Synthetic price walk")
struct SyntheticPriceWalkTests {
    private func path(seed: UInt64, count: Int) -> [Double] {
        var walk = SyntheticPriceWalk(seed: seed, startPrice: 50_000, symbol: "BTCUSDT")
        return (0..<count).map { _ in walk.next() }
    }

    @Test("the same seed gives the same path, different seeds different paths")
    func reproducible() {
        #expect(path(seed: 42, count: 1_000) == path(seed: 42, count: 1_000))
        #expect(path(seed: 42, count: 1_000) != path(seed: 43, count: 1_000))
    }

    @Test("the walk matches pinned values, so it is identical on every platform")
    func pinnedValues() {
        var generator = SplitMix64(seed: 0)
        // Reference outputs of SplitMix64 seeded with 0.
        #expect(generator.next() == 0xe220_a839_7b1d_cdaf)
        #expect(generator.next() == 0x6e78_9e6a_a1b9_65f4)
        let prices = path(seed: 42, count: 1_000)
        #expect(prices.last?.bitPattern == 4_677_326_419_966_427_622)
    }

    @Test("prices stay positive and every volatility regime occurs over a long walk")
    func staysPositiveAndSwitchesRegimes() {
        var walk = SyntheticPriceWalk(seed: 3, startPrice: 50_000, symbol: "BTCUSDT")
        var regimes = Set<VolatilityRegime>()
        for _ in 0..<20_000 {
            #expect(walk.next() > 0)
            regimes.insert(walk.regime)
        }
        #expect(regimes == Set(VolatilityRegime.allCases))
        #expect(walk.step == 20_000)
    }

    @Test("synthetic ticks are reproducible and stamped with the given time")
    func ticks() {
        var first = SyntheticPriceWalk(seed: 9, startPrice: 3_000, symbol: "ETHUSDT")
        var second = SyntheticPriceWalk(seed: 9, startPrice: 3_000, symbol: "ETHUSDT")
        let a = (0..<50).map { first.nextTick(at: TestClock.at(Double($0))) }
        let b = (0..<50).map { second.nextTick(at: TestClock.at(Double($0))) }
        #expect(a == b)
        #expect(Set(a.map(\.id)).count == 50)
        #expect(a.allSatisfy { $0.source == .synthetic && $0.symbol == "ETHUSDT" && $0.originTickId == $0.id && $0.quantity > 0 })
        #expect(a[7].eventTime == TestClock.at(7))
    }

    /// A tick's price change is at most ±6 of the regime's step volatility (Irwin–Hall), ±1.2 % in `.volatile`.
    private static let largestStepMove = 6 * VolatilityRegime.volatile.stepVolatility

    @Test("a walk from its start price keeps its ids: derived from seed and step, no epoch")
    func freshIDsUnchanged() {
        var walk = SyntheticPriceWalk(seed: 5, startPrice: 50_000, symbol: "BTCUSDT")
        #expect(walk.epoch == nil)
        #expect(walk.nextTick(at: TestClock.at(0)).id == EventID.derived(from: "synthetic-tick", "BTCUSDT", "5", "1"))
    }

    @Test("a walk resumed after a tick starts at its price and repeats none of a fresh walk's ids, nor its path")
    func resumedWalkHasIDsOfItsOwn() {
        var fresh = SyntheticPriceWalk(seed: 42, startPrice: 50_000, symbol: "BTCUSDT")
        let freshTicks = (0..<5_000).map { fresh.nextTick(at: TestClock.at(Double($0))) }
        let last = freshTicks[999]  // the restart came after 1,000 steps

        var resumed = SyntheticPriceWalk(seed: 42, resumingAfter: last)
        #expect(resumed.price == last.price)
        #expect(resumed.step == 0)
        #expect(resumed.epoch == last.id)
        let resumedTicks = (0..<5_000).map { resumed.nextTick(at: TestClock.at(Double(1_000 + $0))) }
        #expect(abs(resumedTicks[0].price / last.price - 1) <= Self.largestStepMove)
        #expect(resumedTicks[0].price != freshTicks[1_000].price)
        #expect(Set(resumedTicks.map(\.id)).count == 5_000)
        #expect(Set(resumedTicks.map(\.id)).isDisjoint(with: freshTicks.map(\.id)))
        #expect(resumedTicks.allSatisfy { $0.symbol == "BTCUSDT" && $0.source == .synthetic && $0.originTickId == $0.id })

        // Resuming is reproducible, and a second restart gets an epoch of its own again.
        var again = SyntheticPriceWalk(seed: 42, resumingAfter: last)
        #expect((0..<5_000).map { again.nextTick(at: TestClock.at(Double(1_000 + $0))) } == resumedTicks)
        var second = SyntheticPriceWalk(seed: 42, resumingAfter: resumedTicks[499])
        let secondIDs = Set((0..<5_000).map { _ in second.nextTick(at: TestClock.at(0)).id })
        #expect(secondIDs.count == 5_000)
        #expect(secondIDs.isDisjoint(with: freshTicks.map(\.id)))
        #expect(secondIDs.isDisjoint(with: resumedTicks.map(\.id)))
    }
}
