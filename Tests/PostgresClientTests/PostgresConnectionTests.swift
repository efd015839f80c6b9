import Foundation
import LocalServers
import PostgresClient
import Testing

@Suite("PostgreSQL adapter against a real server")
struct PostgresConnectionTests {
    private func freshDatabase() async throws -> PostgresConnection {
        let server = try await SharedServers.postgres()
        return try await PostgresConnection(try await server.createDatabase())
    }

    @Test("parameters are bound, and rows decode into Swift types, NULL into Optional")
    func typedRows() async throws {
        let db = try await freshDatabase()
        let moment = Date(timeIntervalSince1970: 1_700_000_000.123456)
        let rows = try await db.query(
            "SELECT $1::int AS n, $2::double precision AS price, $3::text AS symbol, $4::boolean AS open, $5::timestamptz AS at, NULL::text AS missing",
            [42, 50000.25, "BTC'USDT", true, moment])
        let row = try #require(rows.first)
        #expect(try row.decode("n", as: Int.self) == 42)
        #expect(try row.decode("price", as: Double.self) == 50000.25)
        #expect(try row.decode("symbol", as: String.self) == "BTC'USDT")
        #expect(try row.decode("open", as: Bool.self))
        #expect(abs(try row.decode("at", as: Date.self).timeIntervalSince(moment)) < 0.000_001)
        #expect(try row.decode("missing", as: String?.self) == nil)
        let error = #expect(throws: PostgresError.self) { try row.decode("missing", as: String.self) }
        #expect(error?.description == "postgres: column 'missing': expected text, got NULL")
    }

    @Test("an SQL error surfaces its SQLSTATE and the server's message")
    func sqlStateSurfaces() async throws {
        let db = try await freshDatabase()
        let missing = await #expect(throws: PostgresError.self) { try await db.query("SELECT * FROM no_such_table") }
        #expect(missing?.sqlState == "42P01")
        #expect(missing?.description.contains("relation \"no_such_table\" does not exist") == true)

        try await db.execute("CREATE TABLE signals (id text PRIMARY KEY)")
        try await db.execute("INSERT INTO signals VALUES ($1)", ["a"])
        let duplicate = await #expect(throws: PostgresError.self) { try await db.execute("INSERT INTO signals VALUES ($1)", ["a"]) }
        #expect(duplicate?.sqlState == "23505")
        // The connection is still usable after a statement error.
        #expect(try await db.query("SELECT count(*) AS n FROM signals").first?.decode("n", as: Int.self) == 1)
    }

    @Test("a transaction commits on success and rolls back when its body throws")
    func transactions() async throws {
        let db = try await freshDatabase()
        try await db.execute("CREATE TABLE trades (id int PRIMARY KEY)")
        try await db.transaction { db in
            try db.execute("INSERT INTO trades VALUES (1)")
            try db.execute("INSERT INTO trades VALUES (2)")
        }
        await #expect(throws: PostgresError.self) {
            try await db.transaction { db in
                try db.execute("INSERT INTO trades VALUES (3)")
                try db.execute("INSERT INTO trades VALUES (1)")  // duplicate: the whole batch goes
            }
        }
        let ids = try await db.query("SELECT id FROM trades ORDER BY id").map { try $0.decode("id", as: Int.self) }
        #expect(ids == [1, 2])
    }

    @Test("COPY FROM STDIN stores rows with awkward text, and COPY TO STDOUT exports them as CSV")
    func copyInAndOut() async throws {
        let db = try await freshDatabase()
        try await db.execute("CREATE TABLE signals (id int, note text)")
        let rows: [[String?]] = (1...1000).map { [String($0), $0 == 7 ? nil : "tab\there, newline\nthere, back\\slash #\($0)"] }
        #expect(try await db.copyIn("COPY signals (id, note) FROM STDIN", rows: rows) == 1000)
        let stored = try await db.query("SELECT note FROM signals WHERE id IN (7, 8) ORDER BY id")
        #expect(stored[0]["note"] == nil)
        #expect(stored[1]["note"] == "tab\there, newline\nthere, back\\slash #8")

        let csv = String(decoding: try await db.copyOut("COPY (SELECT id, note FROM signals WHERE id <= 2 ORDER BY id) TO STDOUT WITH CSV HEADER"), as: UTF8.self)
        #expect(csv == "id,note\n1,\"tab\there, newline\nthere, back\\slash #1\"\n2,\"tab\there, newline\nthere, back\\slash #2\"\n")

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(uniqueName("export")).csv")
        defer { try? FileManager.default.removeItem(at: file) }
        let written = try await db.copyOut("COPY signals TO STDOUT WITH CSV HEADER", toFile: file.path)
        let lines = try String(contentsOf: file, encoding: .utf8).filter { $0 == "\n" }.count
        #expect(written > 0)
        #expect(lines == 1 + 1000 + 999)  // header, one line per row, plus the embedded newline of every non-NULL note
    }

    @Test("a COPY with bad data fails with the server's SQLSTATE and stores nothing")
    func copyRejectsBadData() async throws {
        let db = try await freshDatabase()
        try await db.execute("CREATE TABLE prices (price double precision)")
        let error = await #expect(throws: PostgresError.self) {
            try await db.copyIn("COPY prices FROM STDIN", rows: [["1.5"], ["abc"]])
        }
        #expect(error?.sqlState == "22P02")
        #expect(try await db.query("SELECT count(*) AS n FROM prices").first?.decode("n", as: Int.self) == 0)
    }

    @Test("after a server restart the same connection serves queries again")
    func reconnectsAfterRestart() async throws {
        let server = try await LocalPostgresServer()
        let db = try await PostgresConnection(server.configuration())
        #expect(try await db.query("SELECT 1 AS one").first?["one"] == "1")
        await server.stop()
        let error = await #expect(throws: PostgresError.self) { try await db.query("SELECT 1 AS one") }
        #expect(error?.isConnectionLoss == true)
        try await server.start()
        #expect(try await db.query("SELECT 1 AS one").first?["one"] == "1")
    }

    @Test("a wrong password names the server, the cause and what to check")
    func wrongPassword() async throws {
        let server = try await SharedServers.postgres()
        var configuration = server.configuration()
        configuration.password = "not-the-password"
        let error = await #expect(throws: PostgresError.self) { try await PostgresConnection(configuration) }
        let text = error?.description ?? ""
        #expect(text.hasPrefix("postgres 127.0.0.1:\(server.port)/claire_de_binare:"))
        #expect(text.contains("password authentication failed"))
        #expect(text.contains("check POSTGRES_USER and POSTGRES_PASSWORD"))
    }

    @Test("an unreachable server fails fast with the cause")
    func unreachable() async throws {
        let port = try freeLoopbackPort()
        let error = await #expect(throws: PostgresError.self) {
            try await PostgresConnection(PostgresConfiguration(host: "127.0.0.1", port: port, password: "x"))
        }
        #expect(error?.description.contains("Connection refused") == true)
    }

    @Test("malformed DSNs and non-numeric ports are rejected with the reason")
    func dsnParsing() throws {
        let parsed = try PostgresConfiguration(dsn: "postgresql://claire_user:pw@db:5433/claire_de_binare")
        #expect(parsed.host == "db" && parsed.port == 5433 && parsed.password == "pw" && parsed.database == "claire_de_binare")
        let keyValue = try PostgresConfiguration(dsn: "host=db port=5434 user=u dbname=d")
        #expect(keyValue.port == 5434 && keyValue.user == "u")
        let badPort = #expect(throws: PostgresError.self) { try PostgresConfiguration(dsn: "host=db port=abc") }
        #expect(badPort?.description == "postgres: port: expected an integer in 1-65535, got 'abc'")
        let malformed = #expect(throws: PostgresError.self) { try PostgresConfiguration(dsn: "host=db port") }
        #expect(malformed?.description.hasPrefix("postgres: malformed connection string:") == true)
    }
}
