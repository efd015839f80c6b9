import Foundation
import Logging
import MarketFeed
import ServiceLifecycle
import Testing
import TradingCore

/// The shape a market-data service takes: the feed inside a swift-service-lifecycle `Service`.
private struct TickPublishingService: Service {
    let feed: any TickFeed
    let published: TickBox

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            _ = try await feed.run { tick in published.append(tick) }
        }
    }
}

@Suite struct GracefulShutdownTests {
    private func shutDownPromptly(_ feed: any TickFeed, ticksFirst: Int) async throws {
        let published = TickBox()
        let group = ServiceGroup(configuration: .init(
            services: [TickPublishingService(feed: feed, published: published)],
            logger: quietLogger
        ))
        let running = Task { try await group.run() }
        #expect(await eventually { published.count >= ticksFirst })
        let clock = ContinuousClock()
        let started = clock.now
        await group.triggerGracefulShutdown()
        // The bound is the services' shutdown promise (10 s), far below what waiting for the feed would take
        // (a 30 s synthetic interval, MEXC's keep-alive); tighter bounds failed on two busy cores.
        try await withDeadline(10, "the service group's graceful shutdown") { try await running.value }
        #expect(clock.now - started < .seconds(10))
    }

    @Test("a ServiceGroup's graceful shutdown ends a synthetic feed mid-interval")
    func syntheticFeed() async throws {
        try await shutDownPromptly(try SyntheticFeed(.init(interval: .seconds(30))), ticksFirst: 1)
    }

    @Test("a ServiceGroup's graceful shutdown ends a live MEXC feed and closes its connection")
    func mexcFeed() async throws {
        let server = FakeMEXCServer()
        let url = try await server.start()
        let feed = try MEXCFeed(.init(url: url, closeTimeout: .milliseconds(200)), logger: quietLogger)
        do {
            try await shutDownPromptly(feed, ticksFirst: 3)
            #expect(await eventually { feed.monitor.snapshot().openConnections == 0 })
            #expect(server.record.withLock { $0.connections } == 1)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
