import ArgumentParser
import EventBus
import Foundation
import LocalServers
import Logging
import MarketFeed
import PersistenceService
import PostgresClient
import Primitives
import RedisClient
import ServiceHost
import StackContract
import Synchronization
import TradingCore
import TradingServices

/// The five services on a redis-server and PostgreSQL of their own: replay throughput, tick → order_result
/// latency at a steady rate, and idle memory, each next to its target and the raw tools' rates.
struct PipelineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Replay a month through the five services, time tick → order_result at a steady rate, read idle RSS.")

    @Option(help: "The file cdb_ws replays as fast as possible (bars CSV or ticks JSONL).")
    var replayFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/data/btc-perp-2022-01_1m.csv").standardizedFileURL.path

    @Option(help: "Ticks per second in the latency run.")
    var rate = 1_000

    @Option(help: "Seconds the latency run lasts (the first second is warm-up and not counted).")
    var seconds = 20

    @Option(help: "Seconds the drained pipeline idles before RSS is read.")
    var idleSeconds = 5

    @Option(help: "Messages for the raw redis-benchmark XADD reference.")
    var referenceMessages = 200_000

    @Option(help: "Rows for the raw psql \\copy reference.")
    var referenceRows = 200_000

    @Flag(help: "Print the figures as JSON instead of a table.")
    var json = false

    /// The issue's targets on a 2-core machine.
    static let evaluationTarget = 20_000.0
    static let p99TargetMs = 10.0
    static let rssTargetBytes = 30 * 1024 * 1024

    mutating func run() async throws {
        guard rate > 0, seconds > 1, idleSeconds >= 0, referenceMessages > 0, referenceRows > 0 else {
            throw ValidationError("rate, seconds (> 1), reference counts must be positive")
        }
        guard FileManager.default.isReadableFile(atPath: replayFile) else { throw ValidationError("\(replayFile) is not readable") }
        // What cdb_ws will publish: the same feed, read here once, to know when the stream is complete.
        var tickCount = 0
        var quiet = Logger(label: "cdb-bench")
        quiet.logLevel = .warning
        try await ReplayFeed(.init(path: replayFile, speed: .max), logger: quiet).run { _ in tickCount += 1 }

        let fleet = try ServiceFleet()
        let redis = try await LocalRedisServer()
        let postgres = try await LocalPostgresServer()
        var figures = PipelineFigures(binaries: fleet.binaries.path, replayFile: replayFile, ticks: tickCount)
        if !json { print("cdb-bench pipeline: services from \(fleet.binaries.path); redis-server and PostgreSQL started for this run") }

        figures.rawXADD = try await RawReference.redisXADD(port: redis.port, messages: referenceMessages, batch: 100)
        figures.rawCOPY = try await rawCopy(postgres)
        let bus = try await RedisConnection(redis.configuration)
        try await bus.command("FLUSHALL")

        try await replay(fleet: fleet, redis: redis, postgres: postgres, bus: bus, into: &figures)
        figures.idleRSS = fleet.residentMemory().map { .init(service: $0.name, bytes: $0.bytes, anonymousBytes: $0.anonymousBytes) }
        fleet.stopAll()

        try await bus.command("FLUSHALL")  // the latency run starts from a fresh account and empty streams
        try await latency(fleet: fleet, redis: redis, postgres: postgres, bus: bus, into: &figures)
        figures.hopMeans = await fleet.meanHopLatencies().map { .init(hop: $0.hop, milliseconds: $0.milliseconds, count: $0.count) }
        fleet.stopAll()

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(figures), as: UTF8.self))
        } else {
            print(figures.table)
        }
    }

    private func rawCopy(_ postgres: LocalPostgresServer) async throws -> Double {
        let db = try await PostgresConnection(postgres.configuration())
        try await db.execute("CREATE TABLE bench_raw \(RawReference.copyColumns)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cdb-bench-\(UUID().uuidString).tsv")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(CopyTextFormat.encode(RawReference.copyRows(referenceRows))).write(to: file)
        let rate = try await RawReference.psqlCopy(postgres, table: "bench_raw", file: file, rows: referenceRows)
        try await db.execute("DROP TABLE bench_raw")
        return rate
    }

    private func environment(_ redis: LocalRedisServer, _ database: PostgresConfiguration, clock: String) -> [String: String] {
        ["REDIS_PORT": "\(redis.port)", "POSTGRES_PORT": "\(database.port)", "POSTGRES_PASSWORD": database.password ?? "",
         "POSTGRES_DB": database.database, "CLOCK": clock, "LOG_LEVEL": "warning"]
    }

    /// cdb_ws replays the file at full speed into the running pipeline; the stream and its consumer
    /// groups are watched until cdb_core has evaluated every tick and then until every stream is drained.
    private func replay(fleet: ServiceFleet, redis: LocalRedisServer, postgres: LocalPostgresServer, bus: RedisConnection,
                        into figures: inout PipelineFigures) async throws {
        let common = environment(redis, try await postgres.createDatabase("bench_replay"), clock: "market")
        for name in ["cdb_db_writer", "cdb_core", "cdb_risk", "cdb_execution"] { try await fleet.start(name, environment: common) }
        try await fleet.start("cdb_ws", environment: common.merging(["FEED": "replay", "REPLAY_FILE": replayFile, "REPLAY_SPEED": "max"]) { $1 })

        let market = BusStream.marketData.rawValue
        let deadline = ContinuousClock.now + .seconds(600)
        var coreDone: Date?
        // Tight polling while cdb_core works (two cheap commands), so its finish is seen within a few ms.
        while coreDone == nil {
            guard ContinuousClock.now < deadline else { throw BenchmarkFailure("cdb_core did not evaluate all \(figures.ticks) ticks within 10 minutes") }
            if try await bus.length(of: market) >= figures.ticks,
               let core = try await bus.groups(of: market).first(where: { $0.name == "cdb_core" }), core.lag == 0, core.pending == 0 {
                coreDone = Date()
            } else {
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        // Entry ids carry the XADD time: the first and last tick's are when cdb_ws' publishing began and ended.
        guard let first = try await Self.entryTime(bus, "XRANGE", market, "-", "+"),
              let last = try await Self.entryTime(bus, "XREVRANGE", market, "+", "-"), let coreDone
        else { throw BenchmarkFailure("market_data is empty after the replay") }
        figures.publishRate = Double(figures.ticks) / max(last.timeIntervalSince(first), 0.001)
        figures.evaluationRate = Double(figures.ticks) / coreDone.timeIntervalSince(first)

        // Drained: no group anywhere has anything undelivered or unacknowledged, twice in a row with no new entries
        // (a stage publishes before it acknowledges, so a drained upstream with a busy downstream shows up as lag).
        var idleSince: (at: Date, entries: Int)?
        while true {
            guard ContinuousClock.now < deadline else { throw BenchmarkFailure("the pipeline did not drain within 10 minutes") }
            var entries = 0
            var idle = true
            for stream in BusStream.allCases {
                entries += try await bus.length(of: stream.rawValue)
                if try await bus.groups(of: stream.rawValue).contains(where: { $0.pending > 0 || ($0.lag ?? 1) > 0 }) { idle = false }
            }
            if !idle {
                idleSince = nil
            } else if let since = idleSince, since.entries == entries {
                if Date().timeIntervalSince(since.at) > 0.5 { break }
            } else {
                idleSince = (Date(), entries)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard let drained = idleSince?.at else { return }
        var persisted = 0
        for stream in BusStream.persisted { persisted += try await bus.length(of: stream.rawValue) }
        figures.persistedEvents = persisted
        figures.endToEndSeconds = drained.timeIntervalSince(first)

        if idleSeconds > 0 { try await Task.sleep(for: .seconds(idleSeconds)) }
    }

    /// The XADD time of the first entry `command` (XRANGE or XREVRANGE) returns.
    private static func entryTime(_ bus: RedisConnection, _ command: String, _ stream: String, _ from: String, _ to: String) async throws -> Date? {
        guard let text = try await bus.command(command, stream, from, to, "COUNT", 1).array?.first?.array?.first?.string,
              let id = StreamID(text) else { return nil }
        return Date(timeIntervalSince1970: Double(id.milliseconds) / 1000)
    }

    /// The benchmark itself is the exchange: it appends ticks of an oscillating price at a steady rate (wall
    /// clock, so prices are fresh) and reads order_results, timing each result back to the tick it came from
    /// (every event carries its origin tick's id). Ticks that lead to no order do not count.
    private func latency(fleet: ServiceFleet, redis: LocalRedisServer, postgres: LocalPostgresServer, bus: RedisConnection,
                         into figures: inout PipelineFigures) async throws {
        let common = environment(redis, try await postgres.createDatabase("bench_latency"), clock: "wall")
        for name in ["cdb_db_writer", "cdb_core", "cdb_risk", "cdb_execution"] { try await fleet.start(name, environment: common) }
        let results = BusStream.orderResults.rawValue
        try await bus.createGroup(results, group: "cdb-bench", startID: "$")

        let sent = SentTicks()
        let total = rate * seconds
        let warmUp = rate  // the first second: connections, caches and the strategy's window fill up
        let reader = Task {
            let connection = try await RedisConnection(redis.configuration)
            var samples: [Duration] = []
            var quietSince = ContinuousClock.now
            // Until every tick is out and no result has come for a second.
            while !(sent.finished && ContinuousClock.now - quietSince > .seconds(1)) {
                let entries = try await connection.readGroup(group: "cdb-bench", consumer: "bench", streams: [results], count: 100, block: .milliseconds(100))
                    .first?.entries ?? []
                let arrived = ContinuousClock.now
                if !entries.isEmpty { quietSince = arrived }
                for entry in entries {
                    guard case .success(let result) = EventEnvelope.decode(OrderResult.self, from: entry),
                          let origin = sent.lookup(result.originTickId), origin.index >= warmUp else { continue }
                    samples.append(arrived - origin.at)
                }
            }
            return samples
        }

        let writer = try await RedisConnection(redis.configuration)
        let start = ContinuousClock.now
        for index in 0..<total {
            let due = start + .nanoseconds(Int64(index) * 1_000_000_000 / Int64(rate))
            if due > .now { try await Task.sleep(until: due, clock: .continuous) }
            // ±0.3 % over 50 ticks: SMA(3) crosses SMA(10) by ~10 bps twice a period, a BUY and a SELL.
            let price = 40_000 * (1 + 0.003 * sin(2 * Double.pi * Double(index) / 50))
            let tick = MarketTick(id: UUID().uuidString.lowercased(), symbol: "BTCUSDT", price: price, quantity: 0.01,
                                  eventTime: Date(), source: .synthetic)
            let payload = EventEnvelope.encode(tick)
            sent.record(tick.id, index: index, at: .now)
            try await writer.xadd(BusStream.marketData.rawValue, maxLength: 1_000_000, fields: [(EventEnvelope.field, payload)])
        }
        figures.latencyRate = Double(total) / (ContinuousClock.now - start).seconds
        sent.finish()
        let samples = try await reader.value.sorted()
        figures.latencyTicks = total - warmUp
        figures.latencyOrders = samples.count
        guard !samples.isEmpty else { throw BenchmarkFailure("no order_result came back for any tick: see the service logs in \(fleet.logDirectory.path)") }
        func percentile(_ fraction: Double) -> Double {
            samples[min(samples.count - 1, Int((fraction * Double(samples.count)).rounded(.up)) - 1)].seconds * 1000
        }
        figures.p50Ms = percentile(0.50)
        figures.p99Ms = percentile(0.99)
        figures.maxMs = samples[samples.count - 1].seconds * 1000
    }
}

/// The ticks the latency run sent, by id: shared between the sending loop and the result reader.
private final class SentTicks: Sendable {
    private let ticks = Mutex<[String: (index: Int, at: ContinuousClock.Instant)]>([:])
    private let done = Atomic(false)

    func record(_ id: String, index: Int, at instant: ContinuousClock.Instant) {
        ticks.withLock { $0[id] = (index, instant) }
    }

    func lookup(_ id: String) -> (index: Int, at: ContinuousClock.Instant)? {
        ticks.withLock { $0[id] }
    }

    func finish() { done.store(true, ordering: .releasing) }

    var finished: Bool { done.load(ordering: .acquiring) }
}

/// Everything one run measured.
struct PipelineFigures: Codable {
    struct Hop: Codable {
        var hop: String
        var milliseconds: Double
        var count: Int
    }

    struct Memory: Codable {
        var service: String
        var bytes: Int
        var anonymousBytes: Int
    }

    var binaries: String
    var replayFile: String
    var ticks: Int
    var rawXADD = 0.0
    var rawCOPY = 0.0
    var publishRate = 0.0
    var evaluationRate = 0.0
    var persistedEvents = 0
    var endToEndSeconds = 0.0
    var latencyRate = 0.0
    var latencyTicks = 0
    var latencyOrders = 0
    var p50Ms = 0.0
    var p99Ms = 0.0
    var maxMs = 0.0
    /// Where the latency goes: each hop's mean from the services' own histograms (ms resolution: entry ids).
    var hopMeans: [Hop] = []
    var idleRSS: [Memory] = []

    var table: String {
        func verdict(_ met: Bool) -> String { met ? "PASS" : "MISS" }
        let evaluationMet = evaluationRate >= PipelineBenchmark.evaluationTarget
        var lines = [
            "",
            "reference (same servers, same run)",
            tableRow("  redis-benchmark XADD -P 100 (raw)", rawXADD, "msg/s"),
            tableRow("  psql \\copy FROM file (raw)", rawCOPY, "rows/s"),
            "",
            "replay of \(URL(fileURLWithPath: replayFile).lastPathComponent): \(ticks) ticks, REPLAY_SPEED=max, CLOCK=market",
            tableRow("  cdb_ws → market_data (publish)", publishRate, "ticks/s"),
            tableRow("  cdb_ws → cdb_core (signal evaluation)", evaluationRate, "ticks/s")
                + "   target ≥ \(Int(PipelineBenchmark.evaluationTarget))  \(verdict(evaluationMet))",
            tableRow("  end-to-end into PostgreSQL", Double(persistedEvents) / endToEndSeconds, "events/s")
                + String(format: "   %d events in %.2f s (%.0f ticks/s)", persistedEvents, endToEndSeconds, Double(ticks) / endToEndSeconds),
            "",
            String(format: "latency: %.0f ticks/s for %d ticks after 1 s warm-up, tick XADD → order_result read (%d orders)",
                   latencyRate, latencyTicks, latencyOrders),
            tableRow("  p50", p50Ms, "ms", format: "%12.2f"),
            tableRow("  p99", p99Ms, "ms", format: "%12.2f")
                + String(format: "   target < %.0f ms  %@", PipelineBenchmark.p99TargetMs, verdict(p99Ms < PipelineBenchmark.p99TargetMs)),
            tableRow("  max", maxMs, "ms", format: "%12.2f"),
        ]
        for hop in hopMeans {
            lines.append(tableRow("  hop mean \(hop.hop)", hop.milliseconds, "ms", format: "%12.2f") + "   (\(hop.count) events)")
        }
        lines += [
            "",
            "idle RSS (VmRSS after the replay drained and idled)",
        ]
        for memory in idleRSS {
            lines.append(tableRow("  \(memory.service)", Double(memory.bytes) / 1_048_576, "MB", format: "%12.1f")
                + "   target < \(PipelineBenchmark.rssTargetBytes / 1_048_576) MB  \(verdict(memory.bytes < PipelineBenchmark.rssTargetBytes))"
                + String(format: "   (anonymous %.1f MB, mapped files %.1f MB)",
                         Double(memory.anonymousBytes) / 1_048_576, Double(memory.bytes - memory.anonymousBytes) / 1_048_576))
        }
        return lines.joined(separator: "\n")
    }
}
