import PostgresClient
import RedisClient
import Runbook
import StackContract
import Testing

@Suite("Stack settings")
struct StackSettingsTests {
    @Test("stack settings default to the runbook's ports and reject bad values together")
    func stackSettings() throws {
        let defaults = try StackSettings(environment: [:])
        #expect(defaults.redis.port == 6379)
        #expect(defaults.postgres.port == 5432)
        #expect(defaults.postgres.database == "claire_de_binare")
        #expect(defaults.services.map(\.baseURL) == (8000...8004).map { "http://127.0.0.1:\($0)" })
        let error = #expect(throws: ConfigurationError.self) {
            try StackSettings(environment: ["POSTGRES_PORT": "abc", "REDIS_PORT": "70000"])
        }
        #expect(error?.problems == ["REDIS_PORT: 70000 is outside the valid range 1-65535", "POSTGRES_PORT: expected an integer, got 'abc'"])
    }
}
