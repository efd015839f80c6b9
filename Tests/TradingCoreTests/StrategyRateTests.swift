import Foundation
import SharedTestData
import Testing
import TradingCore

/// What the default strategy emitted over a run of one-minute bars.
struct SignalRate: CustomStringConvertible {
    var bars: Int
    var signals: [TradingSignal]

    var days: Double { Double(bars) / 1_440 }
    var perDay: Double { Double(signals.count) / days }
    var buys: Int { signals.filter { $0.side == .buy }.count }

    var description: String {
        "\(signals.count) signals (\(buys) BUY) over \(String(format: "%.2f", days)) days = \(String(format: "%.1f", perDay)) per day"
    }

    /// Runs a fresh default `MomentumStrategy` over `bars`, one tick per bar, judged at the bar's own time.
    init(defaultStrategyOver bars: [MarketTick]) {
        var strategy = MomentumStrategy()
        self.bars = bars.count
        signals = bars.compactMap { strategy.evaluate($0, now: $0.eventTime) }
    }

    /// The checks both rate tests make: the intended 100–500 signals per 1,440 bars, both sides, valid confidences.
    func expectIntendedBand(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect((100...500).contains(perDay), "signals per day: \(perDay)", sourceLocation: sourceLocation)
        #expect(buys > 0 && buys < signals.count, "BUY signals: \(buys) of \(signals.count)", sourceLocation: sourceLocation)
        #expect(signals.allSatisfy { (0...1).contains($0.confidence) }, sourceLocation: sourceLocation)
    }
}

/// The default layer's rate check: bars the project generates itself, so it runs in a clone with nothing beside it.
@Suite("Momentum strategy on generated one-minute bars")
struct GeneratedBarsStrategyRateTests {
    /// A week of one-minute bars from the synthetic feed's walk (`SyntheticPriceWalk`, what `FEED=synthetic`
    /// streams): each step is one bar's close, one minute after the previous one.
    static func generatedWeek(seed: UInt64) -> [MarketTick] {
        var walk = SyntheticPriceWalk(seed: seed, startPrice: 50_000, symbol: "BTCUSDT")
        return (0..<7 * 1_440).map { minute in walk.nextTick(at: TestClock.at(Double(minute) * 60)) }
    }

    @Test("default strategy emits 100–500 signals per day on a generated week of one-minute bars", arguments: [1, 2, 3, 42] as [UInt64])
    func signalRateOnGeneratedBars(seed: UInt64) {
        let rate = SignalRate(defaultStrategyOver: Self.generatedWeek(seed: seed))
        print("Generated bars (seed \(seed)): \(rate)")
        rate.expectIntendedBand()
    }
}

/// The same check on real January 2022 bars, read from the shared directory (shared layer only).
@Suite("Momentum strategy on real BTC data")
struct SharedDataStrategyRateTests {
    @Test("default strategy emits 100–500 signals per day on January 2022 one-minute BTC bars")
    func signalRateOnRealData() throws {
        let lines = try SharedDirectory.current.text(of: .btcJanuary2022Bars).split(whereSeparator: \.isNewline)
        try #require(lines.first == "timestamp,open,high,low,close,volume")
        let bars = try lines.dropFirst().enumerated().map { index, line in
            let fields = line.split(separator: ",")
            let time = try #require(EventCoding.parseTimestamp(String(fields[0])), "bad timestamp in \(line)")
            let close = try #require(Double(fields[4]), "bad close in \(line)")
            return MarketTick(
                id: EventID.derived(from: "replay-bar", String(index)), symbol: "BTC-PERP", price: close, quantity: 0,
                eventTime: time, source: .replay
            )
        }
        try #require(bars.count == 45_031)

        let rate = SignalRate(defaultStrategyOver: bars)
        print("Real data: \(rate)")
        rate.expectIntendedBand()
    }
}
