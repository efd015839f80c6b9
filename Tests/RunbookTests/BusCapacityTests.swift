import EventBus
import Foundation
import LocalServers
import Primitives
import RedisClient
import Runbook
import StackContract
import Testing

/// The bus' bounds: Redis' maxmemory, the writer against the streams' trim, market_data kept by time. Each test
/// has a redis-server of its own: they change its configuration and rely on the fixed stream names.
@Suite("The bus sized for a week: maxmemory, retention, market_data by time")
struct BusCapacityTests {
    static let memoryStep = """
          - { id: memory, title: Memory, seed: "4.2", check: { type: redis, op: memory, max_pct: 80 } }
    """
    static let retentionStep = """
          - { id: retention, title: Retention, seed: "4.2", check: { type: redis, op: retention } }
    """

    @Test("no maxmemory fails (the container limit is no bound); within it passes with the figures; past 80 % fails")
    func memory() async throws {
        let redis = try await LocalRedisServer()
        let fixture = try await EngineFixture(environment: ["REDIS_PORT": "\(redis.port)"])
        let connection = try await RedisConnection(redis.configuration)

        let unbounded = try #require(try await fixture.run(Self.memoryStep)["memory"])
        #expect(unbounded.status == .fail)
        #expect(unbounded.detail.contains("has no maxmemory"), "\(unbounded.detail)")

        _ = try await connection.command("CONFIG", "SET", "maxmemory", "1gb")
        let roomy = try #require(try await fixture.run(Self.memoryStep)["memory"])
        #expect(roomy.status == .pass, "\(roomy.detail)")
        #expect(roomy.detail.contains("of maxmemory 1024.0 MB"), "\(roomy.detail)")
        #expect(roomy.figures["maxmemory_bytes"] == 1_073_741_824)

        let used = Int(try await connection.info("memory")["used_memory"] ?? "") ?? 0
        _ = try await connection.command("CONFIG", "SET", "maxmemory", "\(used * 100 / 90)")
        let tight = try #require(try await fixture.run(Self.memoryStep)["memory"])
        #expect(tight.status == .fail)
        #expect(tight.detail.contains("at or past 80 %: at 100 % every write fails (noeviction)"), "\(tight.detail)")
    }

    @Test("the writer is told when a persisted stream was trimmed before it read it, or when it falls behind the bound")
    func retention() async throws {
        let redis = try await LocalRedisServer()
        let fixture = try await EngineFixture(environment: ["REDIS_PORT": "\(redis.port)", "STREAM_MAXLEN": "1000"])
        let connection = try await RedisConnection(redis.configuration)
        for stream in BusStream.persisted { _ = try await connection.createGroup(stream.rawValue, group: "cdb_db_writer", startID: "0") }

        let fresh = try #require(try await fixture.run(Self.retentionStep)["retention"])
        #expect(fresh.status == .pass, "\(fresh.detail)")

        // 850 signals waiting: 85 % of STREAM_MAXLEN 1000.
        for index in 0..<850 { _ = try await connection.xadd("signals", fields: [("event", "{\"id\":\"s\(index)\"}")]) }
        let behind = try #require(try await fixture.run(Self.retentionStep)["retention"])
        #expect(behind.status == .fail)
        #expect(behind.detail.contains("signals: cdb_db_writer is 850 entries behind, 85 % of STREAM_MAXLEN 1000"), "\(behind.detail)")

        // The writer reads 500 of them: 350 behind is 35 %, within the bound.
        _ = try await connection.readGroup(group: "cdb_db_writer", consumer: "w", streams: ["signals"], count: 500, block: nil)
        let reading = try #require(try await fixture.run(Self.retentionStep)["retention"])
        #expect(reading.status == .pass, "\(reading.detail)")
        #expect(reading.detail.contains("signals 350"), "\(reading.detail)")

        // Trimmed to the newest 10 while the writer had read 500: the other 340 are lost, and said so.
        _ = try await connection.command("XTRIM", "signals", "MAXLEN", "10")
        let trimmed = try #require(try await fixture.run(Self.retentionStep)["retention"])
        #expect(trimmed.status == .fail)
        #expect(trimmed.detail.contains("signals: 340 entries were trimmed before cdb_db_writer read them"), "\(trimmed.detail)")

        // Only what the writer had read went from orders: nothing lost there.
        for index in 0..<20 { _ = try await connection.xadd("orders", fields: [("event", "{\"id\":\"o\(index)\"}")]) }
        _ = try await connection.readGroup(group: "cdb_db_writer", consumer: "w", streams: ["orders"], count: 15, block: nil)
        _ = try await connection.command("XTRIM", "orders", "MAXLEN", "5")
        let readFirst = try #require(try await fixture.run(Self.retentionStep)["retention"])
        #expect(!readFirst.detail.contains("orders:"), "\(readFirst.detail)")
    }

    @Test("market_data published with a retention keeps entries by their time, the other streams by count")
    func marketDataByTime() async throws {
        let redis = try await LocalRedisServer()
        let connection = try await RedisConnection(redis.configuration)
        // Entries stamped an hour and a half ago, as a feed's would be after that time.
        let old = UInt64(Date().timeIntervalSince1970 * 1000) - 5_400_000
        for index in 0..<300 {
            _ = try await connection.command("XADD", "market_data", "\(old + UInt64(index))-0", "event", "{}")
        }
        let publisher = EventPublisher(redis: redis.configuration, maxLength: 1_000_000, retention: ["market_data": .seconds(3_600)])
        for _ in 0..<3 { try await publisher.publish([(stream: "market_data", payload: "{}"), (stream: "signals", payload: "{}")]) }
        // MINID ~ trims whole nodes (100 entries each by default): the old entries go, the fresh stay.
        #expect(try await connection.length(of: "market_data") < 300)
        #expect(try await connection.range("market_data", count: 1_000).suffix(3).allSatisfy { (StreamID($0.id)?.milliseconds ?? 0) > old + 1_000_000 })
        #expect(try await connection.length(of: "signals") == 3)
    }
}
