import Foundation
import Testing
import TradingCore

@Suite("Momentum strategy")
struct MomentumStrategyTests {
    /// Feeds `prices` one tick per second and returns (tick index, signal) pairs.
    private func run(
        _ prices: [Double],
        symbol: String = "BTCUSDT",
        strategy: inout MomentumStrategy
    ) -> [(index: Int, signal: TradingSignal)] {
        prices.enumerated().compactMap { index, price in
            let time = TestClock.at(Double(index))
            return strategy.evaluate(makeTick(symbol, price: price, at: time), now: time).map { (index, $0) }
        }
    }

    private func synthetic(count: Int, seed: UInt64) -> [Double] {
        var walk = SyntheticPriceWalk(seed: seed, startPrice: 40_000, symbol: "BTCUSDT")
        return (0..<count).map { _ in walk.next() }
    }

    @Test("the same ticks always produce the same signals, ids included")
    func isDeterministic() {
        let prices = synthetic(count: 5_000, seed: 7)
        var first = MomentumStrategy()
        var second = MomentumStrategy()
        let a = run(prices, strategy: &first).map(\.signal)
        let b = run(prices, strategy: &second).map(\.signal)
        #expect(!a.isEmpty)
        #expect(a == b)
    }

    @Test("a sustained rise emits BUY and a following sustained fall emits SELL")
    func followsMomentum() throws {
        let flat = Array(repeating: 100.0, count: 12)
        let rise = (1...10).map { 100 * (1 + 0.002 * Double($0)) }
        let fall = (1...10).map { rise.last! * (1 - 0.002 * Double($0)) }
        var strategy = MomentumStrategy()
        let signals = run(flat + rise + fall, strategy: &strategy)

        try #require(signals.map(\.signal.side) == [.buy, .sell])
        let buy = signals[0]
        #expect(buy.index == flat.count)
        #expect(buy.signal.price == rise[0])
        #expect(buy.signal.priceTime == TestClock.at(Double(flat.count)))
        #expect(signals[1].index > flat.count + rise.count)
        for (_, signal) in signals {
            #expect((0...1).contains(signal.confidence))
            #expect(signal.strategy == "momentum_sma")
            #expect(signal.originTickId == makeTick(price: signal.price, at: signal.priceTime).id)
        }
    }

    @Test("confidence grows with the strength of the move and saturates at 1")
    func scalesConfidence() {
        let flat = Array(repeating: 100.0, count: 10)
        var gentle = MomentumStrategy()
        var steep = MomentumStrategy()
        let gentleSignal = run(flat + [100.2], strategy: &gentle).first?.signal
        let steepSignal = run(flat + [105], strategy: &steep).first?.signal
        // Window: nine prices of 100 and the jump. Momentum 0.0467 % → confidence 0.467; 1.16 % → capped at 1.
        let shortAverage: Double = (200 + 100.2) / 3
        let longAverage: Double = (900 + 100.2) / 10
        let expected = (shortAverage - longAverage) / longAverage / 0.001
        #expect(isClose(gentleSignal?.confidence ?? -1, expected))
        #expect(steepSignal?.confidence == 1)
    }

    @Test("no signal is emitted before the long window is full")
    func waitsForWindow() {
        var strategy = MomentumStrategy()
        let prices = (0..<10).map { 100 * (1 + 0.01 * Double($0)) }
        #expect(run(prices, strategy: &strategy).isEmpty)
    }

    @Test("crossings inside the cool-down are dropped and signals are spaced by it")
    func respectsCooldown() {
        // A zig-zag crosses the threshold every few ticks.
        let prices = (0..<400).map { (index: Int) -> Double in
            let direction: Double = (index / 4) % 2 == 0 ? 1 : -1
            return 100 + direction * Double(index % 4) * 0.2
        }
        var eager = MomentumStrategy(config: MomentumStrategyConfig(cooldownTicks: 0))
        var patient = MomentumStrategy(config: MomentumStrategyConfig(cooldownTicks: 25))
        let eagerSignals = run(prices, strategy: &eager)
        let patientSignals = run(prices, strategy: &patient)

        #expect(patientSignals.count < eagerSignals.count)
        #expect(!patientSignals.isEmpty)
        for (earlier, later) in zip(patientSignals, patientSignals.dropFirst()) {
            #expect(later.index - earlier.index >= 25)
        }
    }

    @Test("symbols keep independent histories")
    func separatesSymbols() {
        var strategy = MomentumStrategy()
        var signals: [TradingSignal] = []
        for index in 0..<30 {
            let time = TestClock.at(Double(index))
            let rising = index < 12 ? 100 : 100 * (1 + 0.003 * Double(index - 11))
            for tick in [makeTick("ETHUSDT", price: rising, at: time), makeTick("BTCUSDT", price: 50_000, at: time)] {
                if let signal = strategy.evaluate(tick, now: time) { signals.append(signal) }
            }
        }
        #expect(signals.map(\.symbol) == ["ETHUSDT"])
        #expect(signals.first?.side == .buy)
    }

    @Test("unusable prices are ignored rather than entering the window")
    func ignoresUnusablePrices() {
        var strategy = MomentumStrategy()
        let flat = run(Array(repeating: 100.0, count: 12), strategy: &strategy)
        let time = TestClock.at(100)
        for bad in [0, -5, Double.nan, .infinity] {
            #expect(strategy.evaluate(makeTick(price: bad, at: time), now: time) == nil)
        }
        var untouched = MomentumStrategy()
        _ = run(Array(repeating: 100.0, count: 12), strategy: &untouched)
        #expect(flat.isEmpty)
        #expect(strategy == untouched)
    }
}
