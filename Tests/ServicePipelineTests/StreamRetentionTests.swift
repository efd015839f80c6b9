import Foundation
import LocalServers
import Logging
import PersistenceService
import RedisClient
import Testing

@Suite("cdb_db_writer's retention of the persisted streams")
struct StreamRetentionTests {
    @Test("acknowledged events older than PERSISTED_RETENTION_HOURS go; younger or unacknowledged ones stay")
    func trimsOnlyWhatNobodyNeeds() async throws {
        let redis = try await LocalRedisServer()  // its own: the stream names are fixed
        let connection = try await RedisConnection(redis.configuration)
        let now = Date()
        let threeDaysAgo = UInt64((now.timeIntervalSince1970 - 3 * 86_400) * 1000)
        for index in 0..<300 { _ = try await connection.command("XADD", "signals", "\(threeDaysAgo + UInt64(index))-0", "event", "{}") }
        for _ in 0..<300 { _ = try await connection.xadd("signals", fields: [("event", "{}")]) }
        for index in 0..<300 { _ = try await connection.command("XADD", "orders", "\(threeDaysAgo + UInt64(index))-0", "event", "{}") }
        _ = try await connection.createGroup("signals", group: "cdb_db_writer", startID: "0")
        _ = try await connection.createGroup("orders", group: "cdb_db_writer", startID: "0")
        let read = try await connection.readGroup(group: "cdb_db_writer", consumer: "w", streams: ["signals"], count: 600, block: nil)
        _ = try await connection.ack("signals", group: "cdb_db_writer", ids: read.flatMap { $0.entries.map(\.id) })
        // orders: old, but the writer has not read them yet.

        let retention = StreamRetention(redis: redis.configuration, retention: .seconds(48 * 3_600), logger: Logger(label: "test"))
        let removed = try await retention.trim(now: now)
        #expect((removed["signals"] ?? 0) >= 200, "\(removed)")
        #expect(try await connection.length(of: "signals") >= 300)
        #expect(try await connection.length(of: "signals") <= 400)
        #expect(removed["orders"] == 0)
        #expect(try await connection.length(of: "orders") == 300)
    }
}
