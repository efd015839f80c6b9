import Foundation
import MarketFeed
import Testing
import TradingCore

@Suite struct MarketTickStreamTests {
    @Test("ticks() lets the feed run at most a buffer ahead, and stops it when the loop ends")
    func backpressureAndStop() async throws {
        let feed = try SyntheticFeed(.init(interval: .zero))
        var taken = 0
        for try await _ in feed.ticks(bufferSize: 4) {
            taken += 1
            try await Task.sleep(for: .milliseconds(5))
            if taken == 10 { break }
        }
        // 10 taken, 4 buffered, 1 held by the blocked sender.
        let produced = feed.monitor.snapshot().ticks
        #expect(produced <= 15)
        try await Task.sleep(for: .milliseconds(100))
        #expect(feed.monitor.snapshot().ticks == produced)
    }

    @Test("an error ends the sequence after the ticks that preceded it")
    func errorAfterTicks() async throws {
        let file = try TemporaryFile(name: "bars.csv", contents: """
            timestamp,open,high,low,close,volume
            2022-01-01 00:00:00.000000,1,1,1,1,1
            2022-01-01 00:01:00.000000,1,1,1,2,1
            2022-01-01 00:02:00.000000,oops
            """)
        defer { file.remove() }
        let feed = try ReplayFeed(.init(path: file.path, speed: .max), logger: quietLogger)
        var prices: [Double] = []
        let error = await #expect(throws: MarketFeedError.self) {
            for try await tick in feed.ticks() {
                prices.append(tick.price)
            }
        }
        #expect(prices == [1, 2])
        #expect(error == .malformedLine(file: file.path, line: 4, problem: "expected 6 columns, got 2"))
    }

    @Test("a finite feed ends the sequence normally")
    func finishes() async throws {
        let feed = try SyntheticFeed(.init(interval: .zero, maxRounds: 25))
        var count = 0
        for try await _ in feed.ticks(bufferSize: 1) { count += 1 }
        #expect(count == 25)
    }
}
