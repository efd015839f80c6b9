import PostgresClient
import RedisClient
import Runbook
import ServiceHost
import Testing

@Suite(".env files and stack settings")
struct EnvFileTests {
    @Test("KEY=value lines, comments, quotes and export are read as compose reads them")
    func parsesComposeStyle() throws {
        let file = try EnvFile.parse("""
        # database
        POSTGRES_PASSWORD="with spaces # not a comment"
        export REDIS_PORT=6380
        MAX_POSITION_PCT=0.10   # 10 %
        EMPTY=
        """, file: ".env")
        #expect(file.values == ["POSTGRES_PASSWORD": "with spaces # not a comment", "REDIS_PORT": "6380", "MAX_POSITION_PCT": "0.10", "EMPTY": ""])
        #expect(file.merged(over: ["REDIS_PORT": "7000"])["REDIS_PORT"] == "7000")
    }

    @Test("every malformed line is reported with its line number")
    func locatedErrors() {
        let error = #expect(throws: EnvFileErrors.self) {
            try EnvFile.parse("GOOD=1\nNO_EQUALS_SIGN\n9BAD=2\nQUOTE=\"open\n", file: ".env")
        }
        #expect(error?.description == """
        .env:2: expected KEY=value, got 'NO_EQUALS_SIGN'
        .env:3: '9BAD' is not a valid variable name
        .env:4: unterminated " quote in the value of QUOTE
        """)
    }

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
