#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlainText
import MarketDataService
import MarketFeed
import ServiceHost

// cdb_ws (port 8000): market data from the built-in synthetic walk (default), a replay file, or live MEXC.
struct FeedConfig {
    var kind: String
    var symbols: [String]
    var syntheticInterval: Duration
    var seed: UInt64
    var replayPath: String
    var replaySpeed: ReplaySpeed
    var replayWallTimes: Bool
    var mexcURL: String
    var staleTimeout: Duration
}

await ServiceMain.run(service: "cdb_ws", defaultPort: 8000) { env in
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
    return FeedConfig(
        kind: kind,
        symbols: symbols,
        syntheticInterval: .milliseconds(env.read(.syntheticIntervalMs)),
        seed: UInt64(env.read(.syntheticSeed)),
        replayPath: path, replaySpeed: speed ?? .realTime,
        replayWallTimes: env.read(.replayEventTimes) == "emission",
        mexcURL: env.read(.mexcURL),
        staleTimeout: .seconds(env.read(.dataStaleTimeoutSec)))
} build: { config, context in
    let monitor = FeedMonitor()
    let feed: any TickFeed
    switch config.kind {
    case "replay":
        feed = try ReplayFeed(
            .init(path: config.replayPath, symbol: config.symbols.first ?? "BTCUSDT", speed: config.replaySpeed,
                  eventTimes: config.replayWallTimes ? .emission : .recorded),
            monitor: monitor, logger: context.logger)
    case "mexc":
        feed = try MEXCFeed(.init(url: config.mexcURL, symbols: config.symbols), monitor: monitor, logger: context.logger)
    default:
        feed = try SyntheticFeed(.init(symbols: config.symbols, seed: config.seed, interval: config.syntheticInterval), monitor: monitor)
    }
    return ServiceParts(
        workers: [FeedStage(feed: feed, liveEventTimes: config.kind != "replay" || config.replayWallTimes, publisher: context.publisher, metrics: context.metrics, logger: context.logger)],
        checks: [.redis(context.settings.redis), FeedStage.staleness(monitor, timeout: config.staleTimeout)],
        status: { monitor.snapshot() })
}
