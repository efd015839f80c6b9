import Foundation
import RedisClient
import Runbook
import StackContract
import Testing
import TradeStore

@Suite("The redis delete_state step behind cdbctl risk reset-account")
struct DeleteStateTests {
    static let step = """
          - { id: forget, title: Account deleted, seed: "5.4", destructive: true, check: { type: redis, op: delete_state, service: cdb_risk } }
    """

    @Test("refused without --yes and a backup; then deletes only cdb_risk's saved state, says how big it was, and passes again when it is already gone")
    func deletesTheKey() async throws {
        var fixture = try await EngineFixture()
        fixture.executor.environment["REDIS_DB"] = "11"  // this test's own Redis database: the key names are fixed
        fixture.executor.stack = try StackSettings(environment: fixture.executor.environment)
        let redis = try await RedisConnection(fixture.executor.stack.redis)
        _ = try await redis.command("FLUSHDB")
        _ = try await redis.command("SET", SavedStateKeys.riskStage, "{\"engine\":{}}")
        _ = try await redis.command("SET", SavedStateKeys.signalStage, "{}")

        // Destructive: refused without --yes (and without a backup), the key left alone.
        let refused = try #require(try await fixture.run(Self.step)["forget"])
        #expect(refused.status == .fail)
        #expect(refused.detail.hasPrefix("refused: 'forget' destroys data"), "\(refused.detail)")
        #expect(try await redis.command("EXISTS", SavedStateKeys.riskStage).integer == 1)

        _ = try await TradeStore.open(fixture.executor.stack.postgres)
        let backup = try #require(try await fixture.run("""
              - { id: backup, title: Backup, seed: "5.4", timeout: 2m, check: { type: backup, directory: backups, restore_check: false } }
        """)["backup"])
        #expect(backup.status == .pass, "\(backup.detail)")
        fixture.executor.command.confirmedDestructive = true
        let first = try #require(try await fixture.run(Self.step)["forget"])
        #expect(first.status == .pass, "\(first.detail)")
        #expect(first.detail == "deleted cdb_risk:state (13 bytes): cdb_risk starts afresh")
        #expect(try await redis.command("EXISTS", SavedStateKeys.riskStage).integer == 0)
        #expect(try await redis.command("EXISTS", SavedStateKeys.signalStage).integer == 1)

        let again = try #require(try await fixture.run(Self.step)["forget"])
        #expect(again.detail == "cdb_risk:state was not there: cdb_risk starts afresh")
        _ = try await redis.command("FLUSHDB")
    }
}
