import Foundation
import Testing
import TradingCore

@Suite("Momentum strategy on real BTC data")
struct RealDataReplayTests {
    /// The shared data lives beside the package, never inside it: `<package root>/../shared/data`.
    private static let dataFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TradingCoreTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("../shared/data/btc-perp-2022-01_1m.csv")
        .standardizedFileURL

    @Test("default strategy emits 100–500 signals per day on January 2022 one-minute BTC bars")
    func signalRateOnRealData() throws {
        guard FileManager.default.fileExists(atPath: Self.dataFile.path) else {
            Issue.record("Real-data file missing at \(Self.dataFile.path); the 100–500 signals/day check did not run.")
            return
        }
        let lines = try String(contentsOf: Self.dataFile, encoding: .utf8).split(whereSeparator: \.isNewline)
        try #require(lines.first == "timestamp,open,high,low,close,volume")
        let bars = try lines.dropFirst().map { line in
            let fields = line.split(separator: ",")
            let time = try #require(EventCoding.parseTimestamp(String(fields[0])), "bad timestamp in \(line)")
            let close = try #require(Double(fields[4]), "bad close in \(line)")
            return (time: time, close: close)
        }
        try #require(bars.count == 45_031)

        var strategy = MomentumStrategy()
        var signals: [TradingSignal] = []
        for (index, bar) in bars.enumerated() {
            let tick = MarketTick(
                id: EventID.derived(from: "replay-bar", String(index)), symbol: "BTC-PERP", price: bar.close, quantity: 0,
                eventTime: bar.time, source: .replay
            )
            if let signal = strategy.evaluate(tick, now: bar.time) { signals.append(signal) }
        }
        let days = Double(bars.count) / 1_440
        let perDay = Double(signals.count) / days
        let buys = signals.filter { $0.side == .buy }.count
        print("Real data: \(signals.count) signals (\(buys) BUY) over \(String(format: "%.2f", days)) days = \(String(format: "%.1f", perDay)) per day")

        #expect((100...500).contains(perDay), "signals per day: \(perDay)")
        #expect(buys > 0 && buys < signals.count)
        #expect(signals.allSatisfy { (0...1).contains($0.confidence) })
    }
}
