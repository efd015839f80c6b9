import EventBus
import Foundation
import LocalServers
import Logging
import RedisClient
import ServiceHost
import Synchronization
import Testing

/// Collects what a handler saw, across tasks.
private final class Seen: Sendable {
    private let ids = Mutex<[String]>([])
    func add(_ entries: [StreamEntry]) { ids.withLock { $0 += entries.compactMap { $0["event"] } } }
    var all: [String] { ids.withLock { $0 } }
}

@Suite("Stream consumer and publisher")
struct StreamConsumerTests {
    @Test("published events reach the stream and the Pub/Sub mirror")
    func publisherMirrors() async throws {
        let server = try await SharedServers.redis()
        let stream = uniqueName("signals")
        let subscription = try await RedisSubscription(server.configuration, channels: [stream])
        let publisher = EventPublisher(redis: server.configuration, maxLength: 1000)
        let ids = try await publisher.publish([(stream, "{\"n\":1}"), (stream, "{\"n\":2}")])
        #expect(ids.count == 2)
        let redis = try await RedisConnection(server.configuration)
        #expect(try await redis.length(of: stream) == 2)
        var messages = subscription.messages.makeAsyncIterator()
        #expect(try await messages.next()?.text == "{\"n\":1}")
        #expect(try await messages.next()?.text == "{\"n\":2}")
        subscription.close()
    }

    @Test("a failing handler leaves entries pending; they are delivered again and acknowledged once handled")
    func atLeastOnce() async throws {
        let server = try await SharedServers.redis()
        let stream = uniqueName("orders")
        let publisher = EventPublisher(redis: server.configuration, maxLength: 1000)
        try await publisher.publish((1...3).map { (stream, "e\($0)") })

        let seen = Seen()
        let failures = Mutex(1)
        let consumer = StreamConsumer(
            redis: server.configuration,
            settings: .init(stream: stream, group: "writer", consumer: "writer-1", block: .milliseconds(100)),
            logger: Logger(label: "test")
        ) { entries in
            let fail = failures.withLock { remaining in
                defer { remaining -= 1 }
                return remaining > 0
            }
            if fail { throw CancellationError() }
            seen.add(entries)
        }
        let task = Task { try await consumer.run() }
        let redis = try await RedisConnection(server.configuration)
        let deadline = ContinuousClock.now + .seconds(10)
        while seen.all.count < 3 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        task.cancel()
        _ = try? await task.value
        #expect(seen.all == ["e1", "e2", "e3"])
        #expect(try await redis.pending(stream, group: "writer").count == 0)
    }

    @Test("a restarted consumer first redelivers what it held unacknowledged when it died")
    func redeliversOwnPendingAfterRestart() async throws {
        let server = try await SharedServers.redis()
        let stream = uniqueName("order_results")
        let publisher = EventPublisher(redis: server.configuration, maxLength: 1000)
        try await publisher.publish((1...4).map { (stream, "r\($0)") })
        // The previous incarnation read everything and crashed before acknowledging.
        let crashed = try await RedisConnection(server.configuration)
        try await crashed.createGroup(stream, group: "writer", startID: "0")
        _ = try await crashed.readGroup(group: "writer", consumer: "writer-1", streams: [stream], count: 10, block: nil)
        await crashed.close()

        let seen = Seen()
        let consumer = StreamConsumer(
            redis: server.configuration,
            settings: .init(stream: stream, group: "writer", consumer: "writer-1", block: .milliseconds(100)),
            logger: Logger(label: "test")
        ) { seen.add($0) }
        let task = Task { try await consumer.run() }
        let deadline = ContinuousClock.now + .seconds(10)
        while seen.all.count < 4 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        task.cancel()
        _ = try? await task.value
        #expect(seen.all == ["r1", "r2", "r3", "r4"])
        let redis = try await RedisConnection(server.configuration)
        #expect(try await redis.pending(stream, group: "writer").count == 0)
    }
}
