import Foundation
import MarketDataService
import MarketFeed
import PersistenceService
import PostgresClient
import StackContract
import Testing
import TradingCore
import TradingServices

@Suite("cdb_core's settings")
struct SignalSettingsTests {
    @Test("unset, the strategy is the documented SMA(3)/SMA(10), 3 bps, 3-tick cool-down")
    func defaults() {
        let (settings, problems) = readSettings([:], SignalSettings.init(reading:))
        #expect(problems.isEmpty)
        #expect(settings.strategy == MomentumStrategyConfig())
    }

    @Test("a short window not below the long one is a problem naming both values")
    func shortBelowLong() {
        let (settings, problems) = readSettings(["STRATEGY_SHORT_WINDOW": "20", "STRATEGY_LONG_WINDOW": "20"], SignalSettings.init(reading:))
        #expect(problems == ["STRATEGY_SHORT_WINDOW (20) must be smaller than STRATEGY_LONG_WINDOW (20)"])
        #expect(settings.strategy.shortWindow == 19)  // still a strategy that can be built while the problems are collected
    }

    @Test("values outside the catalogue's ranges are named with the range")
    func outOfRange() {
        let (_, problems) = readSettings(["STRATEGY_SHORT_WINDOW": "0", "STRATEGY_THRESHOLD": "0.5"], SignalSettings.init(reading:))
        #expect(problems == [
            "STRATEGY_SHORT_WINDOW: 0 is outside the valid range 1-1000",
            "STRATEGY_THRESHOLD: 0.5 is outside the valid range 0.0-0.1",
        ])
    }
}

@Suite("cdb_risk's settings")
struct RiskSettingsTests {
    @Test("unset, the limits are the project's decided values, on the wall clock")
    func defaults() {
        let (settings, problems) = readSettings([:], RiskSettings.init(reading:))
        #expect(problems.isEmpty)
        #expect(settings.policy.limits == RiskLimits())
        #expect(settings.startingCapital == 100_000)
        #expect(settings.clock == .wall)
        #expect(settings.snapshotInterval == .seconds(3_600))
        #expect(settings.markSaveDelay == .seconds(1))
        #expect(settings.marketWait == .seconds(5))
        #expect(settings.resetToken == "")
    }

    @Test("set values arrive in their units: fractions, seconds, milliseconds")
    func values() {
        let (settings, problems) = readSettings([
            "MAX_POSITION_PCT": "0.2", "DATA_STALE_TIMEOUT_SEC": "60", "CLOCK": "market", "MARK_SAVE_INTERVAL_MS": "250",
            "SNAPSHOT_INTERVAL_SEC": "60", "TAKER_FEE_PCT": "0.001",
        ], RiskSettings.init(reading:))
        #expect(problems.isEmpty)
        #expect(settings.policy.limits.maxPositionPct == 0.2)
        // cdb_risk predicts costs by the fees cdb_execution charges.
        #expect(settings.policy.fillModel.takerFeePct == 0.001)
        #expect(settings.policy.limits.dataStaleTimeoutSec == 60)
        #expect(settings.clock == .market)
        #expect(settings.markSaveDelay == .milliseconds(250))
        #expect(settings.snapshotInterval == .seconds(60))
    }

    @Test("every bad value is reported, each with its variable, and the default stands in")
    func problemsTogether() {
        let (settings, problems) = readSettings(["MAX_DAILY_DRAWDOWN_PCT": "0.9", "MAX_POSITION_PCT": "abc", "CLOCK": "lunar"], RiskSettings.init(reading:))
        #expect(problems == [
            "MAX_POSITION_PCT: expected a number, got 'abc'",
            "MAX_DAILY_DRAWDOWN_PCT: 0.9 is outside the valid range 0.01-0.5",
            "CLOCK: expected one of wall, market, got 'lunar'",
        ])
        #expect(settings.policy.limits.maxDailyDrawdownPct == 0.05)
    }
}

@Suite("cdb_execution's settings")
struct ExecutionSettingsTests {
    @Test("unset, the fill model is MEXC's taker fee with the documented slippage, no latency")
    func defaults() {
        let (settings, problems) = readSettings([:], ExecutionSettings.init(reading:))
        #expect(problems.isEmpty)
        #expect(settings.model == PaperFillModel())
        #expect(settings.clock == .wall)
        #expect(settings.latency == .zero)
        #expect(settings.marketWait == .seconds(5))
    }

    @Test("the staleness limit and the latency reach the fill model and the stage")
    func values() {
        let (settings, problems) = readSettings(["DATA_STALE_TIMEOUT_SEC": "45", "SIMULATED_LATENCY_MS": "250", "TAKER_FEE_PCT": "0.001"],
                                        ExecutionSettings.init(reading:))
        #expect(problems.isEmpty)
        #expect(settings.model.staleAfterSec == 45)
        #expect(settings.model.takerFeePct == 0.001)
        #expect(settings.latency == .milliseconds(250))
    }

    @Test("a fee or a latency outside its range is named with the range")
    func outOfRange() {
        let (_, problems) = readSettings(["TAKER_FEE_PCT": "0.5", "SIMULATED_LATENCY_MS": "9000"], ExecutionSettings.init(reading:))
        #expect(problems == [
            "TAKER_FEE_PCT: 0.5 is outside the valid range 0.0-0.01",
            "SIMULATED_LATENCY_MS: 9000 is outside the valid range 0-5000",
        ])
    }
}

@Suite("cdb_ws's settings")
struct FeedSettingsTests {
    @Test("unset, the synthetic walk runs on BTCUSDT once a second with seed 42")
    func defaults() {
        let (settings, problems) = readSettings([:], FeedSettings.init(reading:))
        #expect(problems.isEmpty)
        #expect(settings.kind == "synthetic")
        #expect(settings.symbols == ["BTCUSDT"])
        #expect(settings.syntheticInterval == .seconds(1))
        #expect(settings.seed == 42)
        #expect(settings.replaySpeed == .realTime)
        #expect(settings.liveEventTimes)
    }

    @Test("SYMBOLS is trimmed, upper-cased and stripped of empty items; nothing left is a problem")
    func symbols() {
        #expect(readSettings(["SYMBOLS": " btcusdt, ethUSDT ,,"], FeedSettings.init(reading:)).0.symbols == ["BTCUSDT", "ETHUSDT"])
        #expect(readSettings(["SYMBOLS": " , "], FeedSettings.init(reading:)).problems
            == ["SYMBOLS: expected a comma-separated list such as BTCUSDT,ETHUSDT"])
    }

    @Test("FEED=replay needs a readable .csv or .jsonl file, each failure said in its own words")
    func replayFile() throws {
        #expect(readSettings(["FEED": "replay"], FeedSettings.init(reading:)).problems == ["REPLAY_FILE: required when FEED=replay"])
        let missing = "/nonexistent/\(UUID().uuidString).csv"
        #expect(readSettings(["FEED": "replay", "REPLAY_FILE": missing], FeedSettings.init(reading:)).problems
            == ["REPLAY_FILE: '\(missing)' does not exist or is not readable"])

        let text = FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID().uuidString).txt")
        try Data("x".utf8).write(to: text)
        defer { try? FileManager.default.removeItem(at: text) }
        #expect(readSettings(["FEED": "replay", "REPLAY_FILE": text.path], FeedSettings.init(reading:)).problems
            == ["REPLAY_FILE: '\(text.path)' must end in .csv (bars) or .jsonl (ticks)"])
    }

    @Test("a replay's speed is parsed, and recorded event times are not live")
    func replaySpeed() throws {
        let bars = FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID().uuidString).csv")
        try Data("x".utf8).write(to: bars)
        defer { try? FileManager.default.removeItem(at: bars) }
        let (settings, problems) = readSettings(["FEED": "replay", "REPLAY_FILE": bars.path, "REPLAY_SPEED": "60x"], FeedSettings.init(reading:))
        #expect(problems.isEmpty)
        #expect(settings.replaySpeed == .factor(60))
        #expect(!settings.liveEventTimes)

        #expect(readSettings(["REPLAY_SPEED": "fast"], FeedSettings.init(reading:)).problems
            == ["REPLAY_SPEED: expected realtime, max or a factor like 60x, got 'fast'"])
    }
}

@Suite("cdb_db_writer's settings")
struct WriterSettingsTests {
    @Test("POSTGRES_PASSWORD is required; everything else has the stack's defaults")
    func defaults() {
        let (settings, problems) = readSettings([:], WriterSettings.init(reading:))
        #expect(problems == ["POSTGRES_PASSWORD: required but not set"])
        #expect(settings.postgres.host == "127.0.0.1")
        #expect(settings.postgres.port == 5432)
        #expect(settings.postgres.database == "claire_de_binare")
        #expect(settings.postgres.applicationName == "cdb_db_writer")
        #expect(settings.batchSize == 500)
    }

    @Test("a short password and a batch size out of range are both reported")
    func problemsTogether() {
        let (settings, problems) = readSettings(["POSTGRES_PASSWORD": "short", "DB_BATCH_SIZE": "0"], WriterSettings.init(reading:))
        #expect(problems == [
            "POSTGRES_PASSWORD: must be at least 8 characters (has 5)",
            "DB_BATCH_SIZE: 0 is outside the valid range 1-10000",
        ])
        #expect(settings.batchSize == 500)
    }

    @Test("set values reach the database configuration")
    func values() {
        let (settings, problems) = readSettings(["POSTGRES_PASSWORD": "long-enough", "POSTGRES_HOST": "db", "POSTGRES_PORT": "6543", "DB_BATCH_SIZE": "50"],
                                        WriterSettings.init(reading:))
        #expect(problems.isEmpty)
        #expect(settings.postgres.host == "db")
        #expect(settings.postgres.port == 6543)
        #expect(settings.postgres.password == "long-enough")
        #expect(settings.batchSize == 50)
    }
}
