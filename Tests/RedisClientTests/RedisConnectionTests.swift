import Foundation
import LocalServers
import Primitives
import RedisClient
import Testing

@Suite("Redis adapter against a real redis-server")
struct RedisConnectionTests {
    @Test("values travel binary-safe, NUL and CRLF included")
    func binarySafeRoundTrip() async throws {
        let server = try await SharedServers.redis()
        let redis = try await RedisConnection(server.configuration)
        let key = uniqueName("binary")
        let payload: [UInt8] = [0, 13, 10, 255, 36, 42, 0]
        try await redis.command(["SET", key, payload])
        #expect(try await redis.command("GET", key).bytes == payload)
    }

    @Test("a pipeline returns every reply in order, error replies as values")
    func pipelineKeepsOrder() async throws {
        let server = try await SharedServers.redis()
        let redis = try await RedisConnection(server.configuration)
        let key = uniqueName("pipeline")
        let replies = try await redis.pipeline([["INCR", key], ["INCR", key], ["HGET", key, "x"], ["GET", key]])
        #expect(replies.count == 4)
        #expect(replies[0] == .integer(1))
        #expect(replies[1] == .integer(2))
        guard case .error(let message) = replies[2] else {
            Issue.record("expected a WRONGTYPE error, got \(replies[2])")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(replies[3].string == "2")
    }

    @Test("trimming behind the groups keeps what a group has not been delivered or not acknowledged, and the margin")
    func trimBehindGroups() async throws {
        let server = try await SharedServers.redis()
        let redis = try await RedisConnection(server.configuration)
        let stream = uniqueName("trim")
        for index in 0..<500 { _ = try await redis.xadd(stream, fields: [("event", "\(index)")]) }
        let entries = try await redis.range(stream, count: 1_000)
        for group in ["writer", "stage"] { _ = try await redis.createGroup(stream, group: group, startID: "0") }
        // The writer read and acknowledged everything; the stage was delivered 300 and acknowledged the first 200.
        let all = try await redis.readGroup(group: "writer", consumer: "w", streams: [stream], count: 500, block: nil)
        _ = try await redis.ack(stream, group: "writer", ids: all.flatMap { $0.entries.map(\.id) })
        let some = try await redis.readGroup(group: "stage", consumer: "s", streams: [stream], count: 300, block: nil)
        _ = try await redis.ack(stream, group: "stage", ids: Array(some.flatMap { $0.entries.map(\.id) }.prefix(200)))

        // No margin to speak of: the stage's oldest unacknowledged entry (the 201st) bounds the cut.
        let far = StreamID(milliseconds: .max / 2)
        let removed = try await redis.trimBehindGroups(stream, keepingFrom: far)
        let left = try await redis.range(stream, count: 1_000)
        #expect(removed > 0 && removed <= 200, "removed \(removed)")
        #expect(left.contains { $0.id == entries[200].id })
        #expect(left.count == 500 - removed)

        // A margin older than every entry keeps them all.
        let kept = try await redis.trimBehindGroups(stream, keepingFrom: .zero)
        #expect(kept == 0)
    }

    @Test("a batch of XADDs lands in order with its ids, binary payloads intact")
    func xaddBatch() async throws {
        let server = try await SharedServers.redis()
        let redis = try await RedisConnection(server.configuration)
        let stream = uniqueName("market_data")
        let payloads: [[UInt8]] = (0..<250).map { Array("{\"n\":\($0)}".utf8) + [0, 13, 10] }
        let ids = try await redis.xaddBatch(stream, maxLength: 10_000, field: "event", payloads: payloads)
        #expect(ids.count == 250)
        #expect(try await redis.length(of: stream) == 250)
        let stored = try await redis.command("XRANGE", stream, "-", "+", "COUNT", 2)
        let first = try #require(stored.array?.first?.array)
        #expect(first[0].string == ids[0])
        #expect(first[1].array?[1].bytes == payloads[0])
        try await redis.command("SET", stream + ":string", "x")
        await #expect(throws: RedisError.self) { try await redis.xaddBatch(stream + ":string", maxLength: nil, field: "event", payloads: [[1]]) }
    }

    @Test("XREVRANGE pages a stream newest first, an exclusive end continuing where the last page stopped")
    func reverseRangePages() async throws {
        let server = try await SharedServers.redis()
        let redis = try await RedisConnection(server.configuration)
        let stream = uniqueName("market_data")
        for index in 0..<5 { try await redis.xadd(stream, fields: [("event", "\(index)")]) }
        let first = try await redis.reverseRange(stream, count: 3)
        #expect(first.map { $0["event"] } == ["4", "3", "2"])
        let rest = try await redis.reverseRange(stream, from: "(" + (first.last?.id ?? ""), count: 3)
        #expect(rest.map { $0["event"] } == ["1", "0"])
        #expect(try await redis.reverseRange(uniqueName("absent"), count: 3).isEmpty)
    }

    @Test("an error reply is thrown with the command and the server's message")
    func errorReplyIsThrown() async throws {
        let server = try await SharedServers.redis()
        let redis = try await RedisConnection(server.configuration)
        let error = await #expect(throws: RedisError.self) { try await redis.command("NOSUCHCOMMAND", "x") }
        #expect(error?.description.contains("NOSUCHCOMMAND failed") == true)
    }

    @Test("consumer group: entries a dead consumer left pending are claimed and acknowledged by another")
    func pendingRecoveryAfterConsumerDies() async throws {
        let server = try await SharedServers.redis()
        let stream = uniqueName("orders")
        let producer = try await RedisConnection(server.configuration)
        #expect(try await producer.createGroup(stream, group: "risk", startID: "0"))
        #expect(try await producer.createGroup(stream, group: "risk", startID: "0") == false)
        for index in 0..<5 {
            try await producer.xadd(stream, maxLength: 1000, fields: [("event", "{\"n\":\(index)}")])
        }

        let doomed = try await RedisConnection(server.configuration)
        let delivered = try await doomed.readGroup(group: "risk", consumer: "a", streams: [stream], count: 10, block: .milliseconds(100))
        #expect(delivered.first?.entries.count == 5)
        await doomed.close()  // consumer "a" dies without acknowledging

        let pending = try await producer.pending(stream, group: "risk")
        #expect(pending.count == 5)
        #expect(pending.consumers["a"] == 5)

        let survivor = try await RedisConnection(server.configuration)
        // Nothing new for "b": the five are pending at "a", not undelivered.
        let nothingNew = try await survivor.readGroup(group: "risk", consumer: "b", streams: [stream], count: 10, block: .milliseconds(50))
        #expect(nothingNew.isEmpty)
        try await Task.sleep(for: .milliseconds(30))
        let claimed = try await survivor.autoClaim(stream, group: "risk", consumer: "b", minIdle: .milliseconds(20))
        #expect(claimed.entries.map { $0["event"] } == (0..<5).map { "{\"n\":\($0)}" })
        #expect(try await survivor.ack(stream, group: "risk", ids: claimed.entries.map(\.id)) == 5)
        #expect(try await producer.pending(stream, group: "risk").count == 0)
        let info = try await producer.groups(of: stream)
        #expect(info.first?.name == "risk")
        #expect(info.first?.pending == 0)
    }

    @Test("XREADGROUP with BLOCK returns empty when the block time passes")
    func blockingReadTimesOut() async throws {
        let server = try await SharedServers.redis()
        let stream = uniqueName("quiet")
        let redis = try await RedisConnection(server.configuration)
        try await redis.createGroup(stream, group: "g")
        let start = ContinuousClock.now
        let result = try await redis.readGroup(group: "g", consumer: "c", streams: [stream], count: 1, block: .milliseconds(300))
        #expect(result.isEmpty)
        #expect(ContinuousClock.now - start >= .milliseconds(250))
    }

    @Test("PUBLISH reaches a SUBSCRIBE on another connection")
    func publishSubscribe() async throws {
        let server = try await SharedServers.redis()
        let channel = uniqueName("market_data")
        let subscription = try await RedisSubscription(server.configuration, channels: [channel])
        let publisher = try await RedisConnection(server.configuration)
        #expect(try await publisher.publish(channel, "{\"symbol\":\"BTCUSDT\",\"price\":50000.0}") == 1)
        var iterator = subscription.messages.makeAsyncIterator()
        let message = try await iterator.next()
        #expect(message?.channel == channel)
        #expect(message?.text == "{\"symbol\":\"BTCUSDT\",\"price\":50000.0}")
        subscription.close()
    }

    @Test("INFO comes back as fields")
    func infoFields() async throws {
        let server = try await SharedServers.redis()
        let redis = try await RedisConnection(server.configuration)
        let info = try await redis.info("server")
        #expect(info["tcp_port"] == String(server.port))
    }

    @Test("after a server restart the same connection works again")
    func reconnectsAfterRestart() async throws {
        let server = try await LocalRedisServer()
        let redis = try await RedisConnection(server.configuration)
        #expect(try await redis.command("PING") == .status("PONG"))
        await server.stop()
        let error = await #expect(throws: RedisError.self) { try await redis.command("PING") }
        #expect(error?.isConnectionLoss == true)
        try await server.start()
        #expect(try await redis.command("PING") == .status("PONG"))
    }

    @Test("a wrong password is reported as an authentication failure")
    func wrongPassword() async throws {
        let server = try await LocalRedisServer(password: "right-password")
        var configuration = server.configuration
        configuration.password = "wrong-password"
        let error = await #expect(throws: RedisError.self) { try await RedisConnection(configuration) }
        #expect(error?.description.contains("authentication failed") == true)
        #expect(error?.description.contains("127.0.0.1:\(server.port)") == true)
        configuration.password = "right-password"
        #expect(try await RedisConnection(configuration).command("PING") == .status("PONG"))
    }

    @Test("an unreachable server is named with the cause")
    func unreachableServer() async throws {
        let port = try freeLoopbackPort()
        let error = await #expect(throws: RedisError.self) {
            try await RedisConnection(RedisConfiguration(host: "127.0.0.1", port: port))
        }
        #expect(error?.description.contains("redis 127.0.0.1:\(port):") == true)
        #expect(error?.description.contains("refused") == true)
    }

    @Test("malformed redis URLs are rejected with the reason")
    func urlParsing() throws {
        let parsed = try RedisConfiguration(url: "redis://:secret@cache:6380/2")
        #expect(parsed.host == "cache" && parsed.port == 6380 && parsed.password == "secret" && parsed.database == 2)
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "http://cache:6379") }
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://cache:6379/x") }
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://cache:abc") }
    }
}
