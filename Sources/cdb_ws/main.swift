import EventBus
import MarketDataService
import MarketFeed
import ServiceHost
import StackContract

// cdb_ws (port 8000): market data from the built-in synthetic walk (default), a replay file, or live MEXC.
await ServiceMain.run(service: "cdb_ws", defaultPort: 8000, readConfig: FeedSettings.init(reading:)) { settings, context in
    let monitor = FeedMonitor()
    let feed = try settings.makeFeed(monitor: monitor, redis: context.settings.redis, logger: context.logger)
    // market_data is kept for hours, by entry time: at a live feed's rate a count bound would not say how long.
    let publisher = EventPublisher(
        redis: context.settings.redis, maxLength: context.settings.streamMaxLength, retention: [BusStream.marketData.rawValue: settings.retention])
    return ServiceParts(
        workers: [FeedStage(feed: feed, liveEventTimes: settings.liveEventTimes, publisher: publisher, metrics: context.metrics, logger: context.logger)],
        checks: [.redis(context.settings.redis), FeedStage.staleness(monitor, timeout: settings.staleTimeout)],
        status: { monitor.snapshot() })
}
