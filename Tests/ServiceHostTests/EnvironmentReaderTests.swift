import Logging
import ServiceHost
import StackContract
import Testing

@Suite("Environment configuration")
struct EnvironmentReaderTests {
    @Test("every missing or invalid variable is listed in one message")
    func collectsAllProblems() {
        let reader = EnvironmentReader(["POSTGRES_PORT": "abc", "MAX_POSITION_PCT": "1.5", "REDIS_PORT": "6379", "FEED": "ftx"])
        #expect(reader.port("POSTGRES_PORT", default: 5432) == 5432)
        #expect(reader.port("REDIS_PORT", default: 1) == 6379)
        #expect(reader.decimal("MAX_POSITION_PCT", default: 0.1, range: 0.01...1) == 0.1)
        _ = reader.secret("POSTGRES_PASSWORD", minimumLength: 8)
        _ = reader.choice("FEED", default: "synthetic", allowed: ["synthetic", "replay", "mexc"])
        let error = #expect(throws: ConfigurationError.self) { try reader.finish() }
        #expect(error?.description == """
        invalid configuration (4 problems):
          POSTGRES_PORT: expected an integer, got 'abc'
          MAX_POSITION_PCT: 1.5 is outside the valid range 0.01-1.0
          POSTGRES_PASSWORD: required but not set
          FEED: expected one of synthetic, replay, mexc, got 'ftx'
        """)
    }

    @Test("defaults apply to unset and empty variables; valid values pass")
    func defaultsAndValidValues() throws {
        let reader = EnvironmentReader(["REDIS_HOST": "", "DATA_STALE_TIMEOUT_SEC": "30", "PAPER": "yes", "POSTGRES_PASSWORD": "long-enough"])
        #expect(reader.string("REDIS_HOST", default: "cdb_redis") == "cdb_redis")
        #expect(reader.integer("DATA_STALE_TIMEOUT_SEC", default: 60, range: 10...300) == 30)
        #expect(reader.flag("PAPER", default: false))
        #expect(reader.secret("POSTGRES_PASSWORD", minimumLength: 8) == "long-enough")
        #expect(reader.secrets == ["long-enough"])
        try reader.finish()
    }

    @Test("a short password is refused with its length, never its value")
    func shortSecret() {
        let reader = EnvironmentReader(["POSTGRES_PASSWORD": "abc"])
        _ = reader.secret("POSTGRES_PASSWORD", minimumLength: 8)
        let error = #expect(throws: ConfigurationError.self) { try reader.finish() }
        #expect(error?.problems == ["POSTGRES_PASSWORD: must be at least 8 characters (has 3)"])
    }

    @Test("secrets are masked in log messages and metadata")
    func logRedaction() {
        let handler = ServiceLogHandler(label: "cdb_risk", level: .info, secrets: ["hunter22", "s3cr3t-token"])
        #expect(handler.redact("connecting with password hunter22 and token s3cr3t-token") == "connecting with password *** and token ***")
    }
}
