import MarketDataService
import MarketFeed
import ServiceHost

// cdb_ws (port 8000): market data from the built-in synthetic walk (default), a replay file, or live MEXC.
await ServiceMain.run(service: "cdb_ws", defaultPort: 8000, readConfig: FeedSettings.init(reading:)) { settings, context in
    let monitor = FeedMonitor()
    let feed = try settings.makeFeed(monitor: monitor, redis: context.settings.redis, logger: context.logger)
    return ServiceParts(
        workers: [FeedStage(feed: feed, liveEventTimes: settings.liveEventTimes, publisher: context.publisher, metrics: context.metrics, logger: context.logger)],
        checks: [.redis(context.settings.redis), FeedStage.staleness(monitor, timeout: settings.staleTimeout)],
        status: { monitor.snapshot() })
}
