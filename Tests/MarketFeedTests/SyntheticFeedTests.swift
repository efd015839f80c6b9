import Foundation
import MarketFeed
import Testing
import TradingCore

@Suite struct SyntheticFeedTests {
    private func feed(
        seed: UInt64 = 42,
        symbols: [String] = ["BTCUSDT"],
        rounds: Int = 50,
        interval: Duration = .zero
    ) throws -> SyntheticFeed {
        try SyntheticFeed(.init(
            symbols: symbols,
            seed: seed,
            interval: interval,
            maxRounds: rounds,
            eventClock: .simulated(start: time("2026-01-01T00:00:00Z"), step: .seconds(1))
        ))
    }

    @Test("the same seed gives the same ticks, a different seed different prices")
    func deterministicForSeed() async throws {
        let first = try await runToEnd(try feed(seed: 7)).ticks
        let again = try await runToEnd(try feed(seed: 7)).ticks
        let other = try await runToEnd(try feed(seed: 8)).ticks
        #expect(first.count == 50)
        #expect(first == again)
        #expect(first.map(\.price) != other.map(\.price))
        #expect(Set(first.map(\.id)).count == 50)
        #expect(first.allSatisfy { $0.source == .synthetic && $0.symbol == "BTCUSDT" && $0.originTickId == $0.id })
    }

    @Test("each symbol walks TradingCore's SyntheticPriceWalk, one tick per symbol per round")
    func oneTickPerSymbolPerRound() async throws {
        let (ticks, completion) = try await runToEnd(try feed(symbols: ["BTCUSDT", "ETHUSDT"], rounds: 10))
        #expect(completion == .finished)
        #expect(ticks.count == 20)
        #expect(ticks.map(\.symbol) == Array(repeating: ["BTCUSDT", "ETHUSDT"], count: 10).flatMap { $0 })

        var walk = SyntheticPriceWalk(
            seed: SyntheticFeed.walkSeed(seed: 42, symbol: "ETHUSDT"), startPrice: 50_000, symbol: "ETHUSDT"
        )
        let start = time("2026-01-01T00:00:00Z")
        let expected = (0..<10).map { round in walk.nextTick(at: start.addingTimeInterval(Double(round))) }
        #expect(ticks.filter { $0.symbol == "ETHUSDT" } == expected)
        // Different symbols get different paths even from one seed.
        #expect(ticks.filter { $0.symbol == "BTCUSDT" }.map(\.price) != expected.map(\.price))
    }

    @Test("rounds are spaced by the interval")
    func intervalRespected() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let (ticks, _) = try await runToEnd(try feed(rounds: 5, interval: .milliseconds(50)))
        let elapsed = clock.now - started
        #expect(ticks.count == 5)
        // Four pauses between five rounds.
        #expect(elapsed >= .milliseconds(190))
        #expect(elapsed < .seconds(10))  // a sanity bound only: the suite shares two cores
    }

    @Test("the wall-clock default stamps ticks with the current time")
    func wallClockEventTimes() async throws {
        let feed = try SyntheticFeed(.init(interval: .zero, maxRounds: 3))
        let before = Date()
        let ticks = try await runToEnd(feed).ticks
        #expect(ticks.count == 3)
        #expect(ticks.allSatisfy { abs($0.eventTime.timeIntervalSince(before)) < 5 })
        #expect(feed.monitor.snapshot().ticks == 3)
    }

    @Test("cancelling the task ends run promptly with .cancelled, even mid-interval")
    func stopsPromptlyWhenCancelled() async throws {
        let feed = try SyntheticFeed(.init(interval: .seconds(10)))
        let delivered = TickBox()
        let task = Task { try await feed.run { delivered.append($0) } }
        #expect(await eventually { delivered.count == 1 })
        let clock = ContinuousClock()
        let cancelled = clock.now
        task.cancel()
        let completion = try await withDeadline(8, "the cancelled synthetic feed") { try await task.value }
        #expect(completion == .cancelled)
        // Below the 10 s interval, so the feed did not wait it out; generous because the suite shares two cores.
        #expect(clock.now - cancelled < .seconds(8))
        #expect(delivered.count == 1)
    }

    @Test("an invalid configuration lists every problem at once")
    func invalidConfiguration() throws {
        let error = #expect(throws: MarketFeedError.self) {
            try SyntheticFeed(.init(symbols: ["btc", "BTCUSDT", "BTCUSDT"], startPrice: -1, interval: .seconds(-1)))
        }
        guard case .invalidConfiguration(_, let problems)? = error else {
            Issue.record("expected invalidConfiguration, got \(String(describing: error))")
            return
        }
        #expect(problems.count == 4)
        #expect(problems.contains { $0.contains("'btc'") })
        #expect(problems.contains { $0.contains("listed twice") })
    }

    @Test("a symbol with a resume point continues after that tick; the others start fresh")
    func resumesPerSymbol() async throws {
        let start = time("2026-01-01T00:00:00Z")
        let earlier = try await runToEnd(try feed(symbols: ["BTCUSDT", "ETHUSDT"], rounds: 20)).ticks
        let last = try #require(earlier.last { $0.symbol == "ETHUSDT" })
        let resumed = try await runToEnd(try SyntheticFeed(.init(
            symbols: ["BTCUSDT", "ETHUSDT"], interval: .zero, maxRounds: 10,
            eventClock: .simulated(start: start, step: .seconds(1)), resumingAfter: [last]))).ticks

        var walk = SyntheticPriceWalk(seed: SyntheticFeed.walkSeed(seed: 42, symbol: "ETHUSDT"), resumingAfter: last)
        let expected = (0..<10).map { round in walk.nextTick(at: start.addingTimeInterval(Double(round))) }
        #expect(resumed.filter { $0.symbol == "ETHUSDT" } == expected)
        #expect(Set(expected.map(\.id)).isDisjoint(with: earlier.map(\.id)))
        // BTCUSDT had no resume point: its walk is the fresh one again.
        #expect(resumed.filter { $0.symbol == "BTCUSDT" } == Array(earlier.filter { $0.symbol == "BTCUSDT" }.prefix(10)))
    }

    @Test("resume points: one per symbol, each with a positive price")
    func invalidResumePoints() throws {
        let tick = MarketTick(id: "t", symbol: "BTCUSDT", price: 0, quantity: 1, eventTime: Date(), source: .synthetic)
        let error = #expect(throws: MarketFeedError.self) { try SyntheticFeed(.init(resumingAfter: [tick, tick])) }
        guard case .invalidConfiguration(_, let problems)? = error else {
            Issue.record("expected invalidConfiguration, got \(String(describing: error))")
            return
        }
        #expect(problems.count == 3)
        #expect(problems.contains { $0.contains("more than one tick of BTCUSDT") })
        #expect(problems.contains { $0.contains("tick t must have a positive price") })
    }

    @Test("the staleness check counts from the start and resets with each tick")
    func staleness() async throws {
        let feed = try SyntheticFeed(.init(interval: .zero, maxRounds: 1))
        #expect(!feed.monitor.isStale(after: .zero))
        #expect(feed.monitor.timeSinceLastTick() == nil)
        let started = ContinuousClock.now
        try await feed.run { _ in }
        let age = try #require(feed.monitor.timeSinceLastTick())
        #expect(age <= ContinuousClock.now - started)  // counted from the tick, which came after the start
        #expect(!feed.monitor.isStale(after: .seconds(5)))
        #expect(feed.monitor.isStale(after: .zero, now: .now + .milliseconds(1)))
    }
}
