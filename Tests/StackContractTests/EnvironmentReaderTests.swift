import StackContract
import Testing

@Suite("Environment configuration")
struct EnvironmentReaderTests {
    @Test("every missing or invalid variable is listed in one message")
    func collectsAllProblems() {
        let reader = EnvironmentReader(["POSTGRES_PORT": "abc", "MAX_POSITION_PCT": "1.5", "REDIS_PORT": "6379", "FEED": "ftx"])
        #expect(reader.read(.postgresPort) == 5432)
        #expect(reader.read(.redisPort) == 6379)
        #expect(reader.read(.maxPositionPct) == 0.1)
        _ = reader.read(.postgresPassword)
        _ = reader.read(.feed)
        let error = #expect(throws: ConfigurationError.self) { try reader.finish() }
        #expect(error?.description == """
        invalid configuration (4 problems):
          POSTGRES_PORT: expected an integer, got 'abc'
          MAX_POSITION_PCT: 1.5 is outside the valid range 0.01-1.0
          POSTGRES_PASSWORD: required but not set
          FEED: expected one of synthetic, replay, mexc, got 'ftx'
        """)
    }

    @Test("the catalogue's defaults apply to unset and empty variables, a reader's own where it brings one; valid values pass")
    func defaultsAndValidValues() throws {
        let reader = EnvironmentReader(["REDIS_HOST": "", "DATA_STALE_TIMEOUT_SEC": "30", "POSTGRES_PASSWORD": "long-enough"])
        #expect(reader.read(.redisHost) == "127.0.0.1")
        #expect(reader.read(.dataStaleTimeoutSec) == 30)
        #expect(reader.read(.maxDailyDrawdownPct) == 0.05)
        #expect(reader.read(.clock) == "wall")
        #expect(reader.read(.httpPort, default: 8002) == 8002)
        #expect(reader.read(.consumerName, default: "cdb_risk") == "cdb_risk")
        #expect(reader.read(.postgresPassword) == "long-enough")
        #expect(reader.secrets == ["long-enough"])
        try reader.finish()
    }

    @Test("a short password is refused with its length, never its value")
    func shortSecret() {
        let reader = EnvironmentReader(["POSTGRES_PASSWORD": "abc"])
        _ = reader.read(.postgresPassword)
        let error = #expect(throws: ConfigurationError.self) { try reader.finish() }
        #expect(error?.problems == ["POSTGRES_PASSWORD: must be at least 8 characters (has 3)"])
    }

    @Test("a credential cdbctl passes on is taken as given, and masked")
    func credential() throws {
        let reader = EnvironmentReader(["POSTGRES_PASSWORD": "abc"])
        #expect(reader.credential(.postgresPassword) == "abc")
        #expect(reader.credential(.redisPassword) == "")
        #expect(reader.secrets == ["abc"])
        try reader.finish()
    }
}
