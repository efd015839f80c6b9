import Foundation
import LocalServers
import PostgresClient
import RedisClient
import ServiceHost
import SharedTestData
import Testing
import MarketFeed
import TradingCore
import TradingServices

/// The ticks cdb_ws will produce from `file` (same feed, same ids), to know what to expect downstream.
func replayedTicks(of file: String) async throws -> [MarketTick] {
    var ticks: [MarketTick] = []
    try await ReplayFeed(.init(path: file, speed: .max)).run { ticks.append($0) }
    return ticks
}

/// Replays the shared month of one-minute BTC bars, so it belongs to the shared layer.
@Suite("The five services on real Redis and PostgreSQL", .serialized)
struct SharedDataPipelineReplayTests {
    /// The runbook's limits; a tight daily stop that fires during the January 2022 slide; and a circuit breaker
    /// at 5 % from peak with the daily stop out of reach (50 %), so that only the breaker halts trading. The
    /// stages judge each event at its own market time: risk waits for the marks to reach a signal's time, and
    /// execution fills at the quote as of the order's price time.
    static let scenarios: [(name: String, limits: [String: String], exposureLimitPct: Double, expectDayStop: Bool, expectBreaker: Bool)] = [
        ("runbook limits", [:], 30, false, false),
        ("tight daily stop", ["MAX_POSITION_PCT": "0.5", "MAX_TOTAL_EXPOSURE_PCT": "1", "MAX_DAILY_DRAWDOWN_PCT": "0.01"], 100, true, false),
        ("circuit breaker only", ["MAX_POSITION_PCT": "1", "MAX_TOTAL_EXPOSURE_PCT": "1", "MAX_DAILY_DRAWDOWN_PCT": "0.5",
                                  "CIRCUIT_BREAKER_THRESHOLD_PCT": "0.05"], 100, false, true),
    ]

    @Test(
        "a month of real bars flows through all five services into PostgreSQL; limits hold; a SIGKILLed writer loses and duplicates nothing",
        arguments: 0..<3)
    func replayMonth(scenario: Int) async throws {
        let (scenarioName, limits, exposureLimitPct, expectDayStop, expectBreaker) = Self.scenarios[scenario]
        let monthFile = try SharedDirectory.current.existingPath(of: .btcJanuary2022Bars)
        let ticks = try await replayedTicks(of: monthFile)
        #expect(ticks.count == 45_031)
        var strategy = MomentumStrategy()
        let expectedSignals = Set(ticks.compactMap { strategy.evaluate($0, now: $0.eventTime)?.id })

        let redis = try await LocalRedisServer()
        let postgres = try await SharedServers.postgres()
        let database = try await postgres.createDatabase()
        let common = [
            "REDIS_PORT": "\(redis.port)", "POSTGRES_PORT": "\(postgres.port)", "POSTGRES_PASSWORD": postgres.password,
            "POSTGRES_DB": database.database, "CLOCK": "market", "LOG_LEVEL": "warning",
        ].merging(limits) { $1 }
        let fleet = ServiceFleet(environment: common)
        defer { fleet.stopAll() }
        for name in ["cdb_db_writer", "cdb_core", "cdb_risk", "cdb_execution"] { try await fleet.start(name) }
        let started = ContinuousClock.now
        try await fleet.start("cdb_ws", extra: ["FEED": "replay", "REPLAY_FILE": monthFile, "REPLAY_SPEED": "max"])

        // The writer dies mid-run (SIGKILL: no chance to acknowledge what it holds), then comes back.
        let db = try await PostgresConnection(database)
        let killAt = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < killAt,
              (try await db.query("SELECT count(*) AS n FROM signals").first?.decode("n", as: Int.self) ?? 0) < expectedSignals.count / 3 {
            try await Task.sleep(for: .milliseconds(20))
        }
        fleet.kill("cdb_db_writer")
        try await Task.sleep(for: .seconds(1))
        try await fleet.start("cdb_db_writer")

        let bus = try await RedisConnection(redis.configuration)
        let deadline = ContinuousClock.now + .seconds(600)
        var settled = false
        while ContinuousClock.now < deadline && !settled {
            try await Task.sleep(for: .seconds(1))
            let stored = try await db.query("SELECT count(*) AS n FROM signals").first?.decode("n", as: Int.self) ?? 0
            var idle = stored == expectedSignals.count
            for stream in BusStream.allCases where idle {
                for group in try await bus.groups(of: stream.rawValue) where group.pending > 0 || (group.lag ?? 0) > 0 { idle = false }
            }
            settled = idle
        }
        let elapsed = ContinuousClock.now - started
        print("pipeline replay (\(scenarioName)): \(ticks.count) ticks, \(expectedSignals.count) signals settled in \(elapsed)")
        #expect(settled, "the pipeline did not settle within 10 minutes")

        func count(_ sql: String) async throws -> Int {
            try await db.query(sql).first?.decode(at: 0, as: Int.self) ?? -1
        }
        // Every signal persisted exactly once (ids are primary keys; the set must match).
        let storedIDs = Set(try await db.query("SELECT id FROM signals").map { try $0.decode("id", as: String.self) })
        #expect(storedIDs == expectedSignals)
        #expect(try await count("SELECT count(*) FROM orders") > 0)
        #expect(try await count("SELECT count(*) FROM orders WHERE status = 'APPROVED'") == 0)  // every order got its result
        #expect(try await count("SELECT count(*) FROM trades") > 0)
        #expect(try await count("SELECT count(*) FROM portfolio_snapshots") >= 24 * 30)  // hourly over a month, plus one per fill
        #expect(try await count("SELECT count(*) FROM positions") > 0)
        #expect(try await count("SELECT count(*) FROM risk_events") > 0)

        // No limit ever exceeded, as the snapshots (percent) recorded it.
        let worstExposure = try await db.query("SELECT max(total_exposure_pct) AS x FROM portfolio_snapshots").first?.decode("x", as: Double.self) ?? 100
        #expect(worstExposure <= exposureLimitPct + 1e-6)
        // Once DAY_HALTED, no BUY order on the rest of that UTC day; once HALTED (no reset here), none at all.
        let buysWhileDayHalted = try await count("""
            SELECT count(*) FROM orders o JOIN (
              SELECT date_trunc('day', timestamp) AS day, min(timestamp) AS halted_at
              FROM risk_events WHERE reason = 'DAILY_DRAWDOWN_HALT' GROUP BY 1) h
            ON date_trunc('day', o.timestamp) = h.day AND o.timestamp > h.halted_at AND o.side = 'BUY'
            """)
        #expect(buysWhileDayHalted == 0)
        let buysAfterHalt = try await count("""
            SELECT count(*) FROM orders WHERE side = 'BUY' AND timestamp > (
              SELECT coalesce(min(timestamp), 'infinity') FROM portfolio_snapshots WHERE trading_state = 'HALTED')
            """)
        #expect(buysAfterHalt == 0)
        let dayHalts = try await count("SELECT count(*) FROM risk_events WHERE reason = 'DAILY_DRAWDOWN_HALT'")
        let breakerHalts = try await count("SELECT count(*) FROM risk_events WHERE reason = 'CIRCUIT_BREAKER_HALT'")
        print("pipeline replay (\(scenarioName)): BUYs refused: \(dayHalts) by the daily stop, \(breakerHalts) by the circuit breaker; max exposure \(worstExposure) %")
        #expect((dayHalts > 0) == expectDayStop)
        #expect((breakerHalts > 0) == expectBreaker)
        if expectBreaker {
            // HALTED holds to the end (no operator reset here): the last snapshot still says so.
            let lastState = try await db.query("SELECT trading_state FROM portfolio_snapshots ORDER BY timestamp DESC LIMIT 1")
                .first?.decode("trading_state", as: String.self)
            #expect(lastState == "HALTED")
        }
    }
}
