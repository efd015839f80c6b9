import Foundation
import LocalServers
import Primitives

/// The raw tools' rates that our figures are printed next to, measured on the same servers in the same run.
enum RawReference {
    /// A typical event: what the services put on the streams.
    static let payload =
        "{\"id\":\"7d5e9c1a-0000-4000-8000-000000000000\",\"schema_version\":1,\"symbol\":\"BTCUSDT\",\"price\":47321.5,\"quantity\":0.0123,\"event_time\":\"2026-01-01T00:00:00.000Z\"}"

    /// The columns of the COPY tables: the shape of a trade row.
    static let copyColumns = "(id bigint, symbol text, price double precision, size double precision, pnl double precision, timestamp timestamptz)"

    /// `redis-benchmark`'s pipelined XADD of `payload` to `bench:raw`, one client, `batch` per pipeline: messages per second.
    static func redisXADD(port: Int, messages: Int, batch: Int) async throws -> Double {
        guard let tool = locateExecutable("redis-benchmark") else { throw BenchmarkFailure("redis-benchmark not found (apt-get install redis-tools)") }
        let output = try await runToCompletion(tool, [
            "-h", "127.0.0.1", "-p", "\(port)", "-n", "\(messages)", "-c", "1", "-P", "\(batch)", "--csv",
            "XADD", "bench:raw", "MAXLEN", "~", "1000000", "*", "event", payload])
        guard let rate = csvRate(output) else { throw BenchmarkFailure("could not read redis-benchmark output: \(output)") }
        return rate
    }

    /// `psql \copy` of `file` (`rows` rows) into `table`: rows per second.
    static func psqlCopy(_ server: LocalPostgresServer, table: String, file: URL, rows: Int) async throws -> Double {
        guard let psql = locateExecutable("psql") else { throw BenchmarkFailure("psql not found (apt-get install postgresql-client)") }
        setenv("PGPASSWORD", server.password, 1)
        let start = ContinuousClock.now
        try await runToCompletion(psql, ["-h", "127.0.0.1", "-p", "\(server.port)", "-U", server.user, "-d", "claire_de_binare",
                                         "-v", "ON_ERROR_STOP=1", "-c", "\\copy \(table) FROM '\(file.path)'"])
        return Double(rows) / (ContinuousClock.now - start).seconds
    }

    /// `count` trade-like rows for the COPY tables (some NULLs, as real PnL columns have).
    static func copyRows(_ count: Int) -> [[String?]] {
        (0..<count).map { index -> [String?] in
            let price: Double = 40000 + Double(index % 1000) / 10
            let pnl: String? = index % 7 == 0 ? nil : String(Double(index % 200) - 100)
            return [String(index), "BTCUSDT", String(price), "0.0125", pnl, "2026-01-01 00:00:00+00"]
        }
    }

    static func csvRate(_ output: String) -> Double? {
        // --csv prints a header, then "command","rps" and six latency columns; the command may hold commas.
        for line in output.split(separator: "\n") where !line.hasPrefix("\"test\"") {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if fields.count >= 8, let rate = Double(fields[fields.count - 7]) { return rate }
        }
        return nil
    }
}

/// A benchmark that could not run, with the reason.
struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One aligned line of a figures table.
func tableRow(_ label: String, _ value: Double, _ unit: String, format: String = "%12.0f") -> String {
    label.padding(toLength: 46, withPad: " ", startingAt: 0) + String(format: format, value) + " " + unit
}
