#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import MarketFeed
import PlainText
import RedisClient
import StackContract

/// cdb_ws's settings: which feed (`synthetic`, `replay`, `mexc`), its symbols and the feed's own options.
public struct FeedSettings: Sendable, Equatable {
    /// `FEED`: the catalogue admits `synthetic`, `replay` and `mexc`; anything else runs the synthetic walk.
    public var kind: String
    public var symbols: [String]
    public var syntheticInterval: Duration
    public var seed: UInt64
    public var replayPath: String
    public var replaySpeed: ReplaySpeed
    /// `REPLAY_EVENT_TIMES=emission`: a replay's ticks are re-stamped when they go out.
    public var replayWallTimes: Bool
    public var mexcURL: String
    public var staleTimeout: Duration
    /// `MARKET_DATA_RETENTION_HOURS`: how long `market_data` keeps its entries.
    public var retention: Duration

    /// Reads `FEED`, `SYMBOLS`, `REPLAY_*`, `SYNTHETIC_*`, `MEXC_URL`, `DATA_STALE_TIMEOUT_SEC`, `MARKET_DATA_RETENTION_HOURS`; problems go to `env`.
    /// With `FEED=replay` the file must exist, be readable and be `.csv` (bars) or `.jsonl`/`.ndjson` (ticks).
    public init(reading env: EnvironmentReader) {
        let speedText = env.read(.replaySpeed)
        let speed = ReplaySpeed(parsing: speedText)
        if speed == nil { env.problem("REPLAY_SPEED: expected realtime, max or a factor like 60x, got '\(speedText)'") }
        let kind = env.read(.feed)
        let path = env.read(.replayFile)
        if kind == "replay" {
            if path.isEmpty {
                env.problem("REPLAY_FILE: required when FEED=replay")
            } else if !FileManager.default.isReadableFile(atPath: path) {
                env.problem("REPLAY_FILE: '\(path)' does not exist or is not readable")
            } else if !(path.hasSuffix(".csv") || path.hasSuffix(".jsonl") || path.hasSuffix(".ndjson")) {
                env.problem("REPLAY_FILE: '\(path)' must end in .csv (bars) or .jsonl (ticks)")
            }
        }
        let symbols = env.read(.symbols).split(separator: ",")
            .map { $0.trimmingWhitespace().uppercased() }.filter { !$0.isEmpty }
        if symbols.isEmpty { env.problem("SYMBOLS: expected a comma-separated list such as BTCUSDT,ETHUSDT") }
        self.kind = kind
        self.symbols = symbols
        syntheticInterval = .milliseconds(env.read(.syntheticIntervalMs))
        retention = .seconds(env.read(.marketDataRetentionHours) * 3_600)
        seed = UInt64(env.read(.syntheticSeed))
        replayPath = path
        replaySpeed = speed ?? .realTime
        replayWallTimes = env.read(.replayEventTimes) == "emission"
        mexcURL = env.read(.mexcURL)
        staleTimeout = .seconds(env.read(.dataStaleTimeoutSec))
    }

    /// Whether ticks carry the time they happened (see `FeedStage`'s `liveEventTimes`): all but a replay's recorded times.
    public var liveEventTimes: Bool { kind != "replay" || replayWallTimes }

    /// The feed these settings name, reporting to `monitor`; the synthetic walk resumes where its ticks on `redis` end.
    public func makeFeed(monitor: FeedMonitor, redis: RedisConfiguration, logger: Logger) throws -> any TickFeed {
        switch kind {
        case "replay":
            try ReplayFeed(
                .init(path: replayPath, symbol: symbols.first ?? "BTCUSDT", speed: replaySpeed,
                      eventTimes: replayWallTimes ? .emission : .recorded),
                monitor: monitor, logger: logger)
        case "mexc":
            try MEXCFeed(.init(url: mexcURL, symbols: symbols), monitor: monitor, logger: logger)
        default:
            try ResumingSyntheticFeed(.init(symbols: symbols, seed: seed, interval: syntheticInterval), redis: redis, monitor: monitor, logger: logger)
        }
    }
}
