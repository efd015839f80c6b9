import LocalServers
import PostgresClient
import Runbook
import Testing

@Suite("Health survey against real servers")
struct HealthSurveyTests {
    @Test("Redis and PostgreSQL up are reported up; a service that is not running is down with the cause")
    func mixedStack() async throws {
        let redis = try await SharedServers.redis()
        let postgres = try await SharedServers.postgres()
        let absentPort = try freeLoopbackPort()
        var settings = try StackSettings(environment: [
            "REDIS_PORT": "\(redis.port)", "POSTGRES_PORT": "\(postgres.port)", "POSTGRES_PASSWORD": postgres.password,
            "CDB_WS_PORT": "\(absentPort)",
        ])
        // The shared test server may make a connect wait its turn (LocalPostgresServer.connectTimeoutSeconds).
        settings.postgres.connectTimeoutSeconds = LocalPostgresServer.connectTimeoutSeconds
        let results = await HealthSurvey(settings: settings, timeout: .seconds(40)).run()
        #expect(results.map(\.target) == ["redis", "postgres", "cdb_ws", "cdb_core", "cdb_risk", "cdb_execution", "cdb_db_writer"])
        #expect(results[0].status == .up)
        #expect(results[1].status == .up)
        #expect(results[1].detail.contains("PostgreSQL 1"))
        #expect(results[2].status == .down)
        #expect(results[2].detail.contains("127.0.0.1:\(absentPort)/health"))
    }

    @Test("a wrong PostgreSQL password is down with the reason, not a pass")
    func wrongPassword() async throws {
        let postgres = try await SharedServers.postgres()
        var settings = try StackSettings(environment: ["POSTGRES_PORT": "\(postgres.port)", "POSTGRES_PASSWORD": "wrong-password"])
        settings.postgres.connectTimeoutSeconds = LocalPostgresServer.connectTimeoutSeconds
        let result = await HealthSurvey(settings: settings, timeout: .seconds(40)).run()[1]
        #expect(result.status == .down)
        #expect(result.detail.contains("password authentication failed"))
    }
}
