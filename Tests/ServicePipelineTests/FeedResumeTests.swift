import EventBus
import Foundation
import LocalServers
import Logging
import MarketDataService
import MarketFeed
import RedisClient
import ServiceHost
import Testing
import TradingCore

/// cdb_ws's feed stage on a real Redis, stopped and started again as `docker restart cdb_ws` does. Each test has a
/// redis-server of its own: the stage publishes on the fixed stream `market_data`.
@Suite("The synthetic feed across restarts of cdb_ws")
struct FeedResumeTests {
    static let symbols = ["BTCUSDT", "ETHUSDT"]
    /// A step moves the price by at most ±6 of the regime's step volatility (Irwin–Hall), ±1.2 % in `.volatile`.
    static let largestStepMove = 6 * VolatilityRegime.volatile.stepVolatility

    private static let logger: Logger = {
        var logger = Logger(label: "feed-resume-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// Starts cdb_ws's stage with the synthetic feed on `redis`, in a task of its own.
    private func startStage(on redis: LocalRedisServer, maxRounds: Int?, interval: Duration = .zero, monitor: FeedMonitor = FeedMonitor()) throws -> Task<Void, any Error> {
        let feed = try ResumingSyntheticFeed(
            .init(symbols: Self.symbols, interval: interval, maxRounds: maxRounds), redis: redis.configuration, monitor: monitor, logger: Self.logger)
        let stage = FeedStage(
            feed: feed, liveEventTimes: true, publisher: EventPublisher(redis: redis.configuration, maxLength: nil),
            metrics: ServiceMetrics(service: "cdb_ws"), logger: Self.logger)
        return Task { try await stage.run() }
    }

    /// Waits until `market_data` holds at least `length` entries.
    private func waitForLength(_ length: Int, on redis: LocalRedisServer, within limit: Duration = .seconds(30)) async throws {
        let bus = try await RedisConnection(redis.configuration)
        let deadline = ContinuousClock.now + limit
        while try await bus.length(of: BusStream.marketData.rawValue) < length {
            guard ContinuousClock.now < deadline else { throw LocalServerError(message: "market_data did not reach \(length) entries within \(limit)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops the stage the way a shutdown does (its task cancelled) and waits until it has.
    private func stop(_ stage: Task<Void, any Error>) async throws {
        stage.cancel()
        do { try await stage.value } catch is CancellationError {}
    }

    /// Runs the stage until `market_data` holds `length` entries, then stops it.
    private func run(on redis: LocalRedisServer, maxRounds: Int?, interval: Duration = .zero, until length: Int) async throws {
        let stage = try startStage(on: redis, maxRounds: maxRounds, interval: interval)
        try await waitForLength(length, on: redis)
        try await stop(stage)
    }

    /// The synthetic ticks on `market_data`, oldest first.
    private func syntheticTicks(on redis: LocalRedisServer) async throws -> [MarketTick] {
        let bus = try await RedisConnection(redis.configuration)
        return try await bus.range(BusStream.marketData.rawValue, count: 100_000).compactMap { entry in
            guard case .success(let tick) = EventEnvelope.decode(MarketTick.self, from: entry), tick.source == .synthetic else { return nil }
            return tick
        }
    }

    /// `after` continues the walk of `before` (the last tick of the run before it) exactly: its price within one step's
    /// move, and the id and price of the walk resumed after `before`, not of the walk from its start price.
    private func expectResumed(_ after: MarketTick, from before: MarketTick, sourceLocation: SourceLocation = #_sourceLocation) {
        var resumed = SyntheticPriceWalk(seed: SyntheticFeed.walkSeed(seed: 42, symbol: before.symbol), resumingAfter: before)
        let expected = resumed.nextTick(at: after.eventTime)
        #expect(after.id == expected.id, sourceLocation: sourceLocation)
        #expect(after.price == expected.price, sourceLocation: sourceLocation)
        #expect(abs(after.price / before.price - 1) <= Self.largestStepMove, sourceLocation: sourceLocation)
        var fresh = SyntheticPriceWalk(seed: SyntheticFeed.walkSeed(seed: 42, symbol: before.symbol), startPrice: 50_000, symbol: before.symbol)
        #expect(after.price != fresh.next(), "snapped back to the start price", sourceLocation: sourceLocation)
    }

    @Test("restarted twice, the walk continues each symbol from its last tick: no tick id repeats, no snap-back")
    func restartsContinueTheWalk() async throws {
        let redis = try await LocalRedisServer()
        try await run(on: redis, maxRounds: 40, until: 80)
        // What the resume point must pass over: cdbctl's probe, another feed's tick, an unreadable entry.
        let bus = try await RedisConnection(redis.configuration)
        let market = BusStream.marketData.rawValue
        let probe = MarketTick(id: "probe-1", symbol: "BTCUSDT", price: 1, quantity: 0, eventTime: Date(), source: .probe)
        let replayed = MarketTick(id: "replay-1", symbol: "ETHUSDT", price: 2, quantity: 1, eventTime: Date(), source: .replay)
        for payload in [EventEnvelope.encode(probe), EventEnvelope.encode(replayed), "not json"] {
            try await bus.xadd(market, fields: [(EventEnvelope.field, payload)])
        }
        try await run(on: redis, maxRounds: 30, until: 83 + 60)
        // The third run is stopped mid-walk, as a restart usually comes.
        try await run(on: redis, maxRounds: nil, interval: .milliseconds(1), until: 143 + 40)

        let ticks = try await syntheticTicks(on: redis)
        #expect(ticks.count >= 180)
        #expect(Set(ticks.map(\.id)).count == ticks.count, "a tick id repeats")
        for symbol in Self.symbols {
            let walk = ticks.filter { $0.symbol == symbol }
            try #require(walk.count >= 90)
            expectResumed(walk[40], from: walk[39])
            expectResumed(walk[70], from: walk[69])
            for (before, after) in zip(walk, walk.dropFirst()) {
                #expect(abs(after.price / before.price - 1) <= Self.largestStepMove, "\(symbol): \(before.price) → \(after.price)")
            }
        }
    }

    @Test("with Redis away at start no walk begins; once Redis is back the walk resumes from the last tick")
    func waitsForRedisBeforeWalking() async throws {
        let redis = try await LocalRedisServer()
        try await run(on: redis, maxRounds: 20, until: 40)
        let bus = try await RedisConnection(redis.configuration)
        try await bus.command("SAVE")  // the restarted server loads the stream from its dump
        await redis.stop()

        let monitor = FeedMonitor()
        let stage = try startStage(on: redis, maxRounds: 10, monitor: monitor)
        try await Task.sleep(for: .milliseconds(700))
        #expect(monitor.snapshot().runs == 0)
        #expect(monitor.snapshot().ticks == 0)
        try await redis.start()
        try await waitForLength(60, on: redis)
        try await stop(stage)

        let ticks = try await syntheticTicks(on: redis)
        #expect(ticks.count == 60)
        #expect(Set(ticks.map(\.id)).count == 60, "a tick id repeats")
        for symbol in Self.symbols {
            let walk = ticks.filter { $0.symbol == symbol }
            try #require(walk.count == 30)
            expectResumed(walk[20], from: walk[19])
        }
    }
}
