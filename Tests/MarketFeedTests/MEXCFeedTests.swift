import ChildProcesses
import Foundation
import MarketFeed
import Primitives
import Testing
import TradingCore

/// The live client against `FakeMEXCServer` on 127.0.0.1.
@Suite struct MEXCFeedTests {
    private func withServer<T: Sendable>(
        _ behaviour: FakeMEXCServer.Behaviour = .init(),
        _ body: (FakeMEXCServer, String) async throws -> T
    ) async throws -> T {
        let server = FakeMEXCServer(behaviour)
        let url = try await server.start()
        do {
            let result = try await body(server, url)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    private func feed(url: String, symbols: [String] = ["BTCUSDT"], tweak: (inout MEXCFeed.Configuration) -> Void = { _ in }) throws -> MEXCFeed {
        var configuration = MEXCFeed.Configuration(
            url: url,
            symbols: symbols,
            ackTimeout: .seconds(3),
            reconnectBackoff: .init(initialDelay: .milliseconds(50), maxDelay: .milliseconds(200), jitter: 0.5),
            closeTimeout: .milliseconds(200)
        )
        tweak(&configuration)
        return try MEXCFeed(configuration, logger: quietLogger)
    }

    private func channel(_ symbol: String) -> String {
        MEXCProtocol.aggregatedDealsChannel(symbol: symbol)
    }

    @Test("acknowledged subscriptions yield every pushed deal as a tick")
    func pushedDealsBecomeTicks() async throws {
        try await withServer { server, url in
            let feed = try feed(url: url, symbols: ["BTCUSDT", "ETHUSDT"])
            let ticks = try await collect(feed, count: 6)
            #expect(ticks.count == 6)
            for symbol in ["BTCUSDT", "ETHUSDT"] {
                let mine = ticks.filter { $0.symbol == symbol }
                #expect(mine.map(\.price) == [1_000.5, 1_001.5, 1_002.5])
                #expect(mine.map(\.aggressorSide) == [.buy, .sell, .buy])
                #expect(mine.map(\.quantity) == [0.01, 0.02, 0.03])
                #expect(mine.map(\.eventTime) == (0..<3).map {
                    Date(timeIntervalSince1970: Double(FakeMEXCServer.expectedMilliseconds(connection: 1, deal: $0)) / 1_000)
                })
                #expect(mine.map(\.id) == (0..<3).map {
                    EventID.derived(from: "mexc-tick", symbol, FakeMEXCServer.tradeID(symbol: symbol, connection: 1, deal: $0))
                })
            }
            #expect(ticks.allSatisfy { $0.source == .mexc })
            let record = server.record.withLock { $0 }
            #expect(record.connections == 1)
            #expect(record.subscriptions[1] == [channel("BTCUSDT"), channel("ETHUSDT")])
            #expect(record.requests.first == #"{"id":1,"method":"SUBSCRIPTION","params":["\#(channel("BTCUSDT"))"]}"#)
            let statistics = feed.monitor.snapshot()
            #expect(statistics.frames == 2)
            #expect(statistics.ticks == 6)
            #expect(statistics.connections == 1)
        }
    }

    @Test("the client sends a JSON PING every interval and takes the PONG replies in stride")
    func keepAlive() async throws {
        try await withServer { server, url in
            let feed = try feed(url: url) { $0.pingInterval = .milliseconds(100) }
            let delivered = TickBox()
            let task = Task { try await feed.run { delivered.append($0) } }
            #expect(await eventually { server.record.withLock { $0.pings } >= 3 })
            #expect(await eventually { feed.monitor.snapshot().pongsReceived >= 3 })
            task.cancel()
            #expect(try await withDeadline(10, "the cancelled MEXC feed") { try await task.value } == .cancelled)
            #expect(delivered.count == 3)
            #expect(server.record.withLock { $0.requests }.contains(#"{"method":"PING"}"#))
            #expect(server.record.withLock { $0.connections } == 1)
        }
    }

    @Test("a Blocked! reply ends the feed with an error naming the channel and the server's words")
    func blockedSubscription() async throws {
        try await withServer(.init(subscriptionReply: .block)) { _, url in
            let feed = try feed(url: url)
            let error = await #expect(throws: MarketFeedError.self) {
                try await withDeadline(20, "the blocked MEXC feed") { try await feed.run { _ in } }
            }
            let message = "Not Subscribed successfully! [\(channel("BTCUSDT"))].  Reason： Blocked! "
            #expect(error == .subscriptionRejected(channel: channel("BTCUSDT"), serverMessage: message, url: url))
            #expect(error?.description.contains("Blocked!") == true)
            #expect(feed.monitor.snapshot().reconnects == 0)
        }
    }

    @Test("a subscription left unanswered fails after the ack timeout")
    func missingAck() async throws {
        try await withServer(.init(subscriptionReply: .ignore)) { _, url in
            let feed = try feed(url: url) { $0.ackTimeout = .milliseconds(300) }
            let clock = ContinuousClock()
            let started = clock.now
            let error = await #expect(throws: MarketFeedError.self) {
                try await withDeadline(20, "the unacknowledged MEXC feed") { try await feed.run { _ in } }
            }
            #expect(error == .subscriptionAckTimeout(channels: [channel("BTCUSDT")], timeout: .milliseconds(300), url: url))
            #expect(clock.now - started >= .milliseconds(290))
        }
    }

    @Test("after the server drops the connection the client reconnects, re-subscribes and ticks continue")
    func reconnectsAfterDrop() async throws {
        try await withServer(.init(closeAfterPushOn: [1])) { server, url in
            let feed = try feed(url: url)
            let ticks = try await collect(feed, count: 6)
            #expect(ticks.map(\.price) == [1_000.5, 1_001.5, 1_002.5, 2_000.5, 2_001.5, 2_002.5])
            let record = server.record.withLock { $0 }
            #expect(record.connections == 2)
            #expect(record.subscriptions[1] == [channel("BTCUSDT")])
            #expect(record.subscriptions[2] == [channel("BTCUSDT")])
            let statistics = feed.monitor.snapshot()
            #expect(statistics.reconnects == 1)
            #expect(statistics.connections == 2)
            #expect(statistics.lastError?.contains("closed") == true)
        }
    }

    @Test("more than 30 symbols are spread over more than one connection")
    func manySymbols() async throws {
        try await withServer(.init(dealsPerChannel: 1)) { server, url in
            let symbols = (1...31).map { "COIN\($0)USDT" }
            let feed = try feed(url: url, symbols: symbols)
            let ticks = try await collect(feed, count: 31)
            #expect(Set(ticks.map(\.symbol)) == Set(symbols))
            let record = server.record.withLock { $0 }
            #expect(record.connections == 2)
            #expect(record.subscriptions.values.map(\.count).sorted() == [1, 30])
            #expect(Set(record.subscriptions.values.flatMap { $0 }) == Set(symbols.map(channel)))
        }
    }

    @Test("an undecodable frame is counted and dropped, the next push still arrives")
    func decodeErrors() async throws {
        try await withServer(.init(sendGarbageBeforePush: true)) { _, url in
            let feed = try feed(url: url)
            let ticks = try await collect(feed, count: 3)
            #expect(ticks.count == 3)
            #expect(feed.monitor.snapshot().decodeErrors == 1)
            #expect(feed.monitor.snapshot().frames == 2)
        }
    }

    @Test("a connection is renewed on purpose when it reaches its maximum age")
    func plannedReconnect() async throws {
        try await withServer { server, url in
            let feed = try feed(url: url) { $0.maxConnectionAge = .seconds(1) }
            let ticks = try await collect(feed, count: 6)
            #expect(ticks.map(\.price) == [1_000.5, 1_001.5, 1_002.5, 2_000.5, 2_001.5, 2_002.5])
            #expect(server.record.withLock { $0.connections } == 2)
            #expect(feed.monitor.snapshot().plannedReconnects == 1)
        }
    }

    @Test("a connection silent past the idle timeout is replaced")
    func idleConnection() async throws {
        try await withServer(.init(answerPings: false)) { server, url in
            let feed = try feed(url: url) {
                $0.pingInterval = .milliseconds(100)
                $0.idleTimeout = .milliseconds(400)
            }
            let ticks = try await collect(feed, count: 6)
            #expect(ticks.count == 6)
            #expect(server.record.withLock { $0.connections } >= 2)
            #expect(feed.monitor.snapshot().lastError?.contains("nothing received") == true)
        }
    }

    @Test("cancelling the task closes the connection and ends run promptly")
    func cancellation() async throws {
        try await withServer { _, url in
            let feed = try feed(url: url)
            let delivered = TickBox()
            let task = Task { try await feed.run { delivered.append($0) } }
            #expect(await eventually { delivered.count == 3 })
            #expect(feed.monitor.snapshot().openConnections == 1)
            let clock = ContinuousClock()
            let cancelled = clock.now
            task.cancel()
            #expect(try await withDeadline(8, "the cancelled MEXC feed") { try await task.value } == .cancelled)
            #expect(clock.now - cancelled < .seconds(8))  // generous: the suite shares two cores
            #expect(await eventually { feed.monitor.snapshot().openConnections == 0 })
            #expect(feed.monitor.isStale(after: .seconds(60)) == false)
        }
    }

    @Test("an unreachable server is retried with backoff and, with a failure limit, reported")
    func unreachableServer() async throws {
        // Not a port a stopped server just freed: tests run in parallel, and another test's server (bound to port 0)
        // could be handed that port and answer. freeLoopbackPort's ports lie below the ephemeral range.
        let url = "ws://127.0.0.1:\(try freeLoopbackPort())/ws"
        let feed = try feed(url: url) { $0.maxConsecutiveFailures = 3 }
        let error = await #expect(throws: MarketFeedError.self) {
            try await withDeadline(10, "the unreachable MEXC feed") { try await feed.run { _ in } }
        }
        guard case .connectionFailed(let failedURL, 3, _)? = error else {
            Issue.record("expected connectionFailed after 3 attempts, got \(String(describing: error))")
            return
        }
        #expect(failedURL == url)
        #expect(feed.monitor.snapshot().reconnects == 2)
    }
}
