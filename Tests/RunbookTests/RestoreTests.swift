import Foundation
import PostgresClient
import RedisClient
import Runbook
import Testing

@Suite("Restoring a backup (seed §5.4) against real PostgreSQL and Redis")
struct RestoreTests {
    static let restoreStep = """
          - { id: restore, title: Restore, seed: "5.4", destructive: true, timeout: 2m, check: { type: restore, directory: backups, replay_group: cdb_db_writer } }
    """

    @Test("refused without --yes; with it the newest backup replaces the damaged data, counts verified, and the writer replays the bus since the backup")
    func restoreReplaces() async throws {
        var (fixture, db) = try await reportFixture()
        fixture.executor.environment["REDIS_DB"] = "10"  // this test's own Redis database: it uses the fixed stream names
        fixture.executor.stack = try StackSettings(environment: fixture.executor.environment)
        let redis = try await RedisConnection(fixture.executor.stack.redis)
        _ = try await redis.command("FLUSHDB")
        _ = try await redis.xadd("signals", fields: [("event", #"{"id":"s1"}"#)])
        for stream in ["signals", "order_results"] { _ = try await redis.createGroup(stream, group: "cdb_db_writer", startID: "$") }
        let backup = try #require(try await fixture.run("""
              - { id: backup, title: Backup, seed: "2.3", timeout: 2m, check: { type: backup, directory: backups, restore_check: false } }
        """)["backup"])
        #expect(backup.status == .pass, "\(backup.detail)")
        _ = try await redis.xadd("signals", fields: [("event", #"{"id":"s3"}"#)])
        // A fill that completed an order after the backup: the replay must bring it again too.
        _ = try await redis.xadd("order_results", fields: [("event", #"{"id":"r1"}"#)])
        for stream in ["signals", "order_results"] {
            let delivered = try await redis.readGroup(group: "cdb_db_writer", consumer: "w", streams: [stream], count: 10, block: nil)
            _ = try await redis.ack(stream, group: "cdb_db_writer", ids: delivered.flatMap { $0.entries.map(\.id) })
        }

        // The damage: trades gone, a signal the backup does not have.
        try await db.execute("DELETE FROM trades")
        try await db.execute("""
            INSERT INTO signals (id, symbol, side, confidence, price, strategy, reason, price_time, timestamp, origin_tick_id, schema_version)
            VALUES ('s3', 'BTCUSDT', 'BUY', 0.5, 40000, 'momentum', 'test', now(), now(), 's3', 1)
            """)

        let refused = try #require(try await fixture.run(Self.restoreStep)["restore"])
        #expect(refused.status == .fail)
        #expect(refused.detail.hasPrefix("refused: 'restore' destroys data; run again with --yes (it would fall back on "), "\(refused.detail)")
        #expect(try await db.query("SELECT COUNT(*) AS n FROM trades").first?["n"] == "0")

        fixture.executor.command.confirmedDestructive = true
        let restored = try #require(try await fixture.run(Self.restoreStep)["restore"])
        #expect(restored.status == .pass, "\(restored.detail)")
        #expect(restored.detail.contains("signals 2, orders 0, trades 4, positions 1, portfolio_snapshots 4, risk_events 0"), "\(restored.detail)")
        #expect(restored.detail.contains("cdb_db_writer stores again what the bus holds since"), "\(restored.detail)")
        #expect(restored.detail.hasSuffix(": signals 2, order_results 1"), "\(restored.detail)")
        let fresh = try await PostgresConnection(fixture.executor.stack.postgres)
        #expect(try await fresh.query("SELECT COUNT(*) AS n FROM trades").first?["n"] == "4")
        #expect(try await fresh.query("SELECT id FROM signals ORDER BY id").map { $0["id"] } == ["s1", "s2"])
        #expect(try await redis.groups(of: "signals").first?.lag == 2)
        #expect(try await redis.groups(of: "order_results").first?.lag == 1)
        _ = try await redis.command("FLUSHDB")
    }

    @Test("refused with a backup older than destructive_backup_max_age, and without any backup")
    func restoreNeedsFreshBackup() async throws {
        var fixture = try await EngineFixture()
        fixture.executor.command.confirmedDestructive = true
        let none = try #require(try await fixture.run(Self.restoreStep)["restore"])
        #expect(none.status == .fail)
        #expect(none.detail.hasPrefix("refused: 'restore' destroys data and there is no verified backup in "), "\(none.detail)")

        let folder = fixture.directory.appendingPathComponent("reports/backups")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let old = folder.appendingPathComponent("claire_de_binare-20261101T000000Z.dump")
        try writeVerifiedDump("not restored", at: old, modified: Date().addingTimeInterval(-48 * 3600))
        let stale = try #require(try await fixture.run(Self.restoreStep)["restore"])
        #expect(stale.status == .fail)
        #expect(stale.detail.contains("is 48 h old (allowed 24h"), "\(stale.detail)")
    }
}
