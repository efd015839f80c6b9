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
}
