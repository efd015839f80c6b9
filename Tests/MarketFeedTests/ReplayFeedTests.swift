import Foundation
import MarketFeed
import SharedTestData
import Testing
import TradingCore

/// A replay of `path` that logs nothing (the tests read its errors and monitor instead).
func replayFeed(
    _ path: String,
    speed: ReplaySpeed = .max,
    malformedLines: ReplayFeed.MalformedLinePolicy = .stop,
    eventTimes: ReplayFeed.EventTimes = .recorded
) throws -> ReplayFeed {
    try ReplayFeed(
        .init(path: path, speed: speed, malformedLines: malformedLines, eventTimes: eventTimes),
        logger: quietLogger
    )
}

/// The real month from the shared directory (shared layer only).
@Suite struct SharedDataReplayTests {
    @Test("the shared BTC CSV replays as 45,031 ticks at each bar's close")
    func sharedCSV() async throws {
        let feed = try replayFeed(SharedDirectory.current.existingPath(of: .btcJanuary2022Bars))
        let clock = ContinuousClock()
        let started = clock.now
        let (ticks, completion) = try await runToEnd(feed, within: 120)
        let elapsed = (clock.now - started).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        print("replay of \(ticks.count) CSV bars at speed max: \(Int(Double(ticks.count) / seconds)) ticks/s (this build)")

        #expect(completion == .finished)
        #expect(ticks.count == 45_031)
        let first = try #require(ticks.first)
        let last = try #require(ticks.last)
        // First and last lines of the file:
        // 2021-12-31 23:01:00.000000,46319.0,46385.0,46319.0,46377.0,2300413.7295
        // 2022-02-01 05:31:00.000000,38525.0,38546.0,38525.0,38544.0,685906.9735
        #expect(first.eventTime == time("2021-12-31 23:01:00.000000"))
        #expect(first.price == 46_377.0)
        #expect(first.quantity == 2_300_413.7295)
        #expect(last.eventTime == time("2022-02-01 05:31:00.000000"))
        #expect(last.price == 38_544.0)
        #expect(last.quantity == 685_906.9735)
        #expect(ticks.allSatisfy { $0.symbol == "BTCUSDT" && $0.source == .replay && $0.aggressorSide == nil })
        #expect(Set(ticks.map(\.id)).count == 45_031)
        #expect(first.id == EventID.derived(from: "replay-tick", "", "BTCUSDT", "2"))
        let statistics = feed.monitor.snapshot()
        #expect(statistics.ticks == 45_031)
        #expect(statistics.linesRead == 45_032)
        #expect(statistics.skippedLines == 0)
    }
}

@Suite struct ReplayFeedTests {
    @Test("JSON lines take ISO-8601 or epoch-millisecond times and numeric or string prices")
    func jsonLines() async throws {
        let file = try TemporaryFile(name: "trades.jsonl", contents: """
            {"symbol":"BTCUSDT","price":46377.5,"quantity":0.01,"time":"2022-01-01T00:00:00.250Z","side":"buy"}
            {"symbol":"ETHUSDT","price":"3700.25","quantity":"1.5","time":1640995200500}

            {"price":46380,"quantity":0.02,"time":"1640995201000","side":"SELL"}\r
            """)
        defer { file.remove() }
        let ticks = try await runToEnd(try replayFeed(file.path)).ticks
        #expect(ticks.count == 3)
        #expect(ticks.map(\.symbol) == ["BTCUSDT", "ETHUSDT", "BTCUSDT"])
        #expect(ticks.map(\.price) == [46_377.5, 3_700.25, 46_380])
        #expect(ticks.map(\.quantity) == [0.01, 1.5, 0.02])
        #expect(ticks.map(\.aggressorSide) == [.buy, nil, .sell])
        #expect(ticks[0].eventTime == time("2022-01-01T00:00:00.250Z"))
        #expect(ticks[1].eventTime == Date(timeIntervalSince1970: 1_640_995_200.5))
        #expect(ticks[2].eventTime == Date(timeIntervalSince1970: 1_640_995_201))
    }

    @Test("a CSV line with too few columns stops the replay with file:line and the column count")
    func csvColumnCount() async throws {
        let file = try TemporaryFile(name: "bars.csv", contents: """
            timestamp,open,high,low,close,volume
            2022-01-01 00:00:00.000000,1,2,0.5,1.5,10
            2022-01-01 00:01:00.000000,1,2,1.5

            """)
        defer { file.remove() }
        let delivered = TickBox()
        let error = await #expect(throws: MarketFeedError.self) {
            try await replayFeed(file.path).run { delivered.append($0) }
        }
        #expect(error == .malformedLine(file: file.path, line: 3, problem: "expected 6 columns, got 4"))
        #expect(error?.description == "\(file.path):3: expected 6 columns, got 4")
        #expect(delivered.count == 1)
    }

    @Test("a value that is not a number is named with the column and its text")
    func notANumber() async throws {
        let csv = try TemporaryFile(name: "bars.csv", contents: """
            timestamp,open,high,low,close,volume
            2022-01-01 00:00:00.000000,1,2,0.5,abc,10
            """)
        let jsonl = try TemporaryFile(name: "trades.jsonl", contents: """
            {"price":"1.5","quantity":1,"time":1640995200000}
            {"price":"abc","quantity":1,"time":1640995200000}
            """)
        defer {
            csv.remove()
            jsonl.remove()
        }
        await #expect(throws: MarketFeedError.malformedLine(file: csv.path, line: 2, problem: "close 'abc' is not a number")) {
            try await replayFeed(csv.path).run { _ in }
        }
        await #expect(throws: MarketFeedError.malformedLine(file: jsonl.path, line: 2, problem: "price 'abc' is not a number")) {
            try await replayFeed(jsonl.path).run { _ in }
        }
    }

    @Test("other malformed lines: bad timestamp, missing field, not JSON")
    func otherMalformedLines() async throws {
        let csv = try TemporaryFile(name: "bars.csv", contents: """
            timestamp,open,high,low,close,volume
            yesterday,1,2,0.5,1.5,10
            """)
        let jsonl = try TemporaryFile(name: "trades.jsonl", contents: """
            {"price":1,"time":1640995200000}
            """)
        let garbage = try TemporaryFile(name: "garbage.jsonl", contents: "price=1\n")
        defer {
            csv.remove()
            jsonl.remove()
            garbage.remove()
        }
        await #expect(throws: MarketFeedError.malformedLine(
            file: csv.path, line: 2, problem: "timestamp 'yesterday' is not a time like 2022-01-31 23:59:00.000000 (UTC)"
        )) {
            try await replayFeed(csv.path).run { _ in }
        }
        await #expect(throws: MarketFeedError.malformedLine(file: jsonl.path, line: 1, problem: "missing field 'quantity'")) {
            try await replayFeed(jsonl.path).run { _ in }
        }
        let error = await #expect(throws: MarketFeedError.self) { try await replayFeed(garbage.path).run { _ in } }
        #expect(error?.description.hasPrefix("\(garbage.path):1: not valid JSON") == true)
    }

    @Test("with the skip policy, malformed lines are counted and the good ones still replay")
    func skipMalformedLines() async throws {
        let file = try TemporaryFile(name: "bars.csv", contents: """
            \u{FEFF}timestamp,open,high,low,close,volume\r
            2022-01-01 00:00:00.000000,1,2,0.5,1.5,10\r
            2022-01-01 00:01:00.000000,1,2,1.5\r
            2022-01-01 00:02:00.000000,1,2,0.5,-3,10\r
            2022-01-01 00:03:00.000000,1,2,0.5,1.75,11\r

            """)
        defer { file.remove() }
        let feed = try replayFeed(file.path, malformedLines: .skip)
        let (ticks, completion) = try await runToEnd(feed)
        #expect(completion == .finished)
        #expect(ticks.map(\.price) == [1.5, 1.75])
        let statistics = feed.monitor.snapshot()
        #expect(statistics.skippedLines == 2)
        #expect(statistics.lastError == "\(file.path):4: close '-3' is not a positive price")
    }

    @Test("a file without the expected header fails at line 1, even when skipping")
    func missingHeader() async throws {
        let file = try TemporaryFile(name: "bars.csv", contents: "2022-01-01 00:00:00.000000,1,2,0.5,1.5,10\n")
        defer { file.remove() }
        let error = await #expect(throws: MarketFeedError.self) {
            try await replayFeed(file.path, malformedLines: .skip).run { _ in }
        }
        guard case .malformedLine(_, 1, let problem)? = error else {
            Issue.record("expected a line-1 error, got \(String(describing: error))")
            return
        }
        #expect(problem.contains("timestamp,open,high,low,close,volume"))
    }

    @Test("a missing file is an error naming the path")
    func missingFile() async throws {
        await #expect(throws: MarketFeedError.unreadableFile(path: "/nonexistent/bars.csv", reason: "no such file")) {
            try await replayFeed("/nonexistent/bars.csv").run { _ in }
        }
        #expect(throws: MarketFeedError.self) { try ReplayFeed(.init(path: "bars.txt"), logger: quietLogger) }
    }

    // The file spans 100 s so that the bounds are far apart: on a loaded machine a sleeping task can wake
    // seconds late, which must not fail the test, while real-time pacing (100 s) still would.
    @Test("speed 100x replays a 100-second file in about 1 s, max without pausing")
    func speedFactor() async throws {
        let file = try TemporaryFile(name: "bars.csv", contents: """
            timestamp,open,high,low,close,volume
            2022-01-01 00:00:00.000000,1,1,1,1,1
            2022-01-01 00:00:25.000000,1,1,1,2,1
            2022-01-01 00:00:50.000000,1,1,1,3,1
            2022-01-01 00:01:15.000000,1,1,1,4,1
            2022-01-01 00:01:40.000000,1,1,1,5,1
            """)
        defer { file.remove() }
        let clock = ContinuousClock()

        var started = clock.now
        let fast = try await runToEnd(try replayFeed(file.path, speed: .factor(100))).ticks
        let hundredTimes = clock.now - started
        #expect(fast.map(\.price) == [1, 2, 3, 4, 5])
        #expect(hundredTimes >= .milliseconds(990))
        #expect(hundredTimes < .seconds(30))  // real time would take 100 s

        started = clock.now
        _ = try await runToEnd(try replayFeed(file.path, speed: .max))
        #expect(clock.now - started < .seconds(30))  // real time would take 100 s, 100x still 1 s
    }

    @Test("cancelling a real-time replay ends it promptly")
    func cancelDuringPause() async throws {
        let file = try TemporaryFile(name: "bars.csv", contents: """
            timestamp,open,high,low,close,volume
            2022-01-01 00:00:00.000000,1,1,1,1,1
            2022-01-01 01:00:00.000000,1,1,1,2,1
            """)
        defer { file.remove() }
        let feed = try replayFeed(file.path, speed: .realTime)
        let delivered = TickBox()
        let task = Task { try await feed.run { delivered.append($0) } }
        #expect(await eventually { delivered.count == 1 })
        task.cancel()
        let completion = try await withDeadline(20, "the cancelled replay") { try await task.value }
        #expect(completion == .cancelled)
        #expect(delivered.count == 1)
    }

    @Test("emission event times stamp ticks with the wall clock, ids stay those of the file")
    func emissionTimes() async throws {
        let file = try TemporaryFile(name: "bars.csv", contents: """
            timestamp,open,high,low,close,volume
            2022-01-01 00:00:00.000000,1,1,1,1,1
            """)
        defer { file.remove() }
        let recorded = try await runToEnd(try replayFeed(file.path)).ticks
        let emitted = try await runToEnd(try replayFeed(file.path, eventTimes: .emission)).ticks
        #expect(recorded.first?.eventTime == time("2022-01-01T00:00:00Z"))
        #expect(abs(emitted.first?.eventTime.timeIntervalSinceNow ?? 99) < 5)
        #expect(recorded.first?.id == emitted.first?.id)
    }

    @Test("speeds parse from the words a service reads from its environment")
    func speedParsing() {
        #expect(ReplaySpeed(parsing: "max") == .max)
        #expect(ReplaySpeed(parsing: " MAX ") == .max)
        #expect(ReplaySpeed(parsing: "realtime") == .realTime)
        #expect(ReplaySpeed(parsing: "1") == .realTime)
        #expect(ReplaySpeed(parsing: "60x") == .factor(60))
        #expect(ReplaySpeed(parsing: "0.5×") == .factor(0.5))
        #expect(ReplaySpeed(parsing: "0") == nil)
        #expect(ReplaySpeed(parsing: "-2x") == nil)
        #expect(ReplaySpeed(parsing: "fast") == nil)
    }
}
