import Foundation
import HTTPClient
import LocalServers
import PostgresClient
import RedisClient
import StackContract
import Testing
import TradingCore

/// Three days of one-minute bars, a seeded walk with trends (so the strategy trades), in the replay's CSV form.
func writeGeneratedBars(to path: String, days: Int = 3, seed: UInt64 = 7) throws {
    var random = SplitMix64(seed: seed)
    var price = 40_000.0
    var drift = 0.0
    var lines = ["timestamp,open,high,low,close,volume"]
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSSSSS"
    let start = Date(timeIntervalSince1970: 1_640_995_200)  // 2022-01-01 00:00 UTC
    for minute in 0..<(days * 1_440) {
        // A new trend every two hours: long enough for the momentum windows to see it.
        if minute % 120 == 0 { drift = (random.nextUnitDouble() - 0.5) * 0.002 }
        let open = price
        price *= 1 + drift + (random.nextUnitDouble() - 0.5) * 0.002
        let high = max(open, price) * 1.0005
        let low = min(open, price) * 0.9995
        lines.append("\(formatter.string(from: start + Double(minute) * 60)),\(open),\(high),\(low),\(price),\(1_000 + random.nextUnitDouble() * 1_000)")
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
}

/// The five services on a replay of generated bars, with one fault in the middle of the stream; afterwards the
/// books must hold together exactly as without it.
@Suite("Chaos: faults in the middle of a replay lose and duplicate nothing", .serialized)
struct ChaosReplayTests {
    enum Fault: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case none, killCore = "SIGKILL cdb_core", killRisk = "SIGKILL cdb_risk", killExecution = "SIGKILL cdb_execution"
        case restartRedis = "restart Redis (SIGTERM, AOF)"
        case postgresDown = "PostgreSQL down 60 s"
        var testDescription: String { rawValue }

        /// The service killed and the stream whose pending entries prove the kill came mid-work.
        var victim: (service: String, stream: BusStream)? {
            switch self {
            case .killCore: ("cdb_core", .marketData)
            case .killRisk: ("cdb_risk", .marketData)
            case .killExecution: ("cdb_execution", .orders)
            case .none, .restartRedis, .postgresDown: nil
            }
        }
    }

    /// What a run left: its tables' content, as compared between runs.
    struct Books: Equatable {
        var signals: Set<String>
        var orders: [String: String]
        var trades: Set<String>
    }

    /// One run's tables, kept to compare runs (`.serialized`: one at a time).
    nonisolated(unsafe) static var baseline: Books?

    @Test("after the fault and the drain: every persisted event once in its table, every signal one decision, every order one result, and the ledger agrees", arguments: Fault.allCases)
    func replayWithFault(fault: Fault) async throws {
        let scratch = try scratchDirectory("cdb-chaos")
        let bars = scratch.appendingPathComponent("bars.csv").path
        try writeGeneratedBars(to: bars)
        let redis = try await LocalRedisServer(appendOnly: true)
        // The outage gets a server of its own: the shared one serves the other suites meanwhile.
        let postgres = fault == .postgresDown ? try await LocalPostgresServer() : try await SharedServers.postgres()
        let database = try await postgres.createDatabase()
        let common = [
            "REDIS_PORT": "\(redis.port)", "POSTGRES_PORT": "\(postgres.port)", "POSTGRES_PASSWORD": postgres.password,
            "POSTGRES_DB": database.database, "CLOCK": "market", "LOG_LEVEL": "warning",
            "MAX_POSITION_PCT": "0.5", "MAX_TOTAL_EXPOSURE_PCT": "1", "SNAPSHOT_INTERVAL_SEC": "3600",
            // Each batch of orders waits before it is filled, so a kill of cdb_execution finds some pending.
            "SIMULATED_LATENCY_MS": "100",
        ]
        let fleet = ServiceFleet(environment: common)
        defer { fleet.stopAll() }
        for name in ["cdb_db_writer", "cdb_core", "cdb_risk", "cdb_execution"] { try await fleet.start(name) }
        // Three days in about 26 s: slow enough to strike mid-stream.
        try await fleet.start("cdb_ws", extra: ["FEED": "replay", "REPLAY_FILE": bars, "REPLAY_SPEED": "10000x"])
        let bus = try await RedisConnection(redis.configuration)
        var db = try await PostgresConnection(database)
        func count(_ sql: String) async throws -> Int { try await db.query(sql).first?.decode(at: 0, as: Int.self) ?? -1 }

        // Let trading begin, then strike while the victim holds work.
        let warmUp = ContinuousClock.now + .seconds(60)
        while try await count("SELECT count(*) FROM orders") < 3, ContinuousClock.now < warmUp { try await Task.sleep(for: .milliseconds(50)) }
        if let victim = fault.victim {
            var held = 0
            let limit = ContinuousClock.now + .seconds(20)
            while held == 0, ContinuousClock.now < limit {
                held = try await bus.groups(of: victim.stream.rawValue).first { $0.name == victim.service }?.pending ?? 0
                if held == 0 { try await Task.sleep(for: .milliseconds(2)) }
            }
            fleet.kill(victim.service)
            #expect(held > 0, "the kill of \(victim.service) should come while it holds unacknowledged \(victim.stream.rawValue) entries")
            let fed = try await bus.length(of: BusStream.marketData.rawValue)
            print("chaos (\(fault.rawValue)): killed with \(held) \(victim.stream.rawValue) entries pending, \(fed) ticks fed so far")
            try await Task.sleep(for: .seconds(1))
            try await fleet.start(victim.service)
        } else if fault == .restartRedis {
            let fed = try await bus.length(of: BusStream.marketData.rawValue)
            await redis.stop()
            try await Task.sleep(for: .seconds(1))
            try await redis.start()
            print("chaos (\(fault.rawValue)): Redis restarted after \(fed) ticks")
        } else if fault == .postgresDown {
            let stored = try await count("SELECT count(*) FROM signals")
            await postgres.stop()
            try await Task.sleep(for: .seconds(60))
            let fed = try await bus.length(of: BusStream.marketData.rawValue)
            #expect(fed > 0)
            try await postgres.start()
            db = try await PostgresConnection(database)
            print("chaos (\(fault.rawValue)): PostgreSQL stopped with \(stored) signals stored, \(fed) ticks fed when it came back")
        }

        // Drained: the feed done and no group with anything waiting or pending, twice in a row.
        let fresh = try await RedisConnection(redis.configuration)
        let expectedTicks = 3 * 1_440
        let deadline = ContinuousClock.now + .seconds(300)
        var quietRounds = 0
        while quietRounds < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(1))
            var idle = try await fresh.length(of: BusStream.marketData.rawValue) >= expectedTicks
            for stream in BusStream.allCases where idle {
                for group in try await fresh.groups(of: stream.rawValue) where group.pending > 0 || (group.lag ?? 0) > 0 { idle = false }
            }
            quietRounds = idle ? quietRounds + 1 : 0
        }
        #expect(quietRounds == 2, "the pipeline did not drain within 5 minutes")

        // Every event on a persisted stream exactly once there and exactly once in its table.
        var lines: [String] = []
        for stream in BusStream.persisted {
            let ids = try await fresh.range(stream.rawValue, count: 1_000_000).compactMap { entry -> String? in
                guard let bytes = entry.fields[BusStream.eventField],
                      let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
                return object["id"] as? String
            }
            let distinct = Set(ids)
            #expect(ids.count == distinct.count, "\(stream.rawValue): \(ids.count - distinct.count) events published twice")
            if let table = stream.table {
                let rows = Set(try await db.query("SELECT id FROM \(table)").map { try $0.decode("id", as: String.self) })
                #expect(rows == distinct, "\(table): \(distinct.subtracting(rows).count) events lost, \(rows.subtracting(distinct).count) rows without an event")
            } else {
                #expect(distinct.count == (try await count("SELECT count(*) FROM orders")), "one result per order")
            }
            lines.append("\(stream.rawValue) \(ids.count)")
        }
        #expect(try await count("SELECT count(*) FROM orders WHERE status = 'APPROVED'") == 0, "every order got its result")
        let undecided = try await count("""
            SELECT count(*) FROM signals s WHERE (SELECT count(*) FROM orders o WHERE o.signal_id = s.id)
                + (SELECT count(*) FROM risk_events r WHERE r.signal_id = s.id) <> 1
            """)
        #expect(undecided == 0, "every signal has exactly one order or one rejection")

        // The ledger: cash and positions rebuilt from the fills, against cdb_risk's /status and the last snapshot.
        let fills = try await db.query("SELECT symbol, side, filled_quantity, fill_price, fee FROM orders WHERE status = 'FILLED'")
        var cash = 100_000.0
        var held: [String: Double] = [:]
        for fill in fills {
            let quantity = try fill.decode("filled_quantity", as: Double.self)
            let notional = quantity * (try fill.decode("fill_price", as: Double.self))
            let fee = try fill.decode("fee", as: Double.self)
            let symbol = try fill.decode("symbol", as: String.self)
            if try fill.decode("side", as: String.self) == "BUY" {
                cash -= notional + fee
                held[symbol, default: 0] += quantity
            } else {
                cash += notional - fee
                held[symbol, default: 0] -= quantity
            }
        }
        #expect(held.values.allSatisfy { $0 > -1e-9 }, "no SELL filled more than was held: \(held)")
        let response = try await HTTPClient().get(fleet.url(of: "cdb_risk") + "/status")
        let status = try EventCoding.decoder.decode(RiskStatus.self, from: Data(response.body))
        let lastSnapshot = try await fresh.range(BusStream.portfolioSnapshots.rawValue, count: 1_000_000).last
            .flatMap { $0.fields[BusStream.eventField] }
            .flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
        let snapshotCash = lastSnapshot?["cash"] as? Double ?? .nan
        let statusHeld = Dictionary(uniqueKeysWithValues: status.openPositions.map { ($0.symbol, $0.size) })
        #expect(abs(status.cash - cash) < 0.01, "cash from the fills \(cash), cdb_risk's /status \(status.cash)")
        #expect(abs(snapshotCash - cash) < 0.01, "cash from the fills \(cash), the last snapshot \(snapshotCash)")
        for (symbol, quantity) in held where abs(quantity) > 1e-9 {
            #expect(abs((statusHeld[symbol] ?? 0) - quantity) < 1e-9, "\(symbol): \(quantity) from the fills, \(statusHeld[symbol] ?? 0) in /status")
        }
        print("chaos (\(fault.rawValue)): \(lines.joined(separator: ", ")); \(fills.count) fills; cash \(cash.rounded()) from the fills, \(status.cash.rounded()) in /status, \(snapshotCash.rounded()) in the last snapshot")

        // The same file and settings give the same books, with or without the fault.
        let books = Books(
            signals: Set(try await db.query("SELECT id FROM signals").map { try $0.decode("id", as: String.self) }),
            orders: Dictionary(uniqueKeysWithValues: try await db.query("SELECT id, quantity, fill_price FROM orders").map {
                (try $0.decode("id", as: String.self), "\((try? $0.decode("quantity", as: Double.self)) ?? 0) @ \((try? $0.decode("fill_price", as: Double.self)) ?? 0)")
            }),
            trades: Set(try await db.query("SELECT id FROM trades").map { try $0.decode("id", as: String.self) }))
        if fault == .none {
            Self.baseline = books
        } else if let baseline = Self.baseline {
            #expect(books.signals == baseline.signals, "signals differ from the run without a fault")
            let sameOrders = books.orders == baseline.orders
            print("chaos (\(fault.rawValue)): determinism: signals \(books.signals == baseline.signals ? "identical" : "DIFFER"), orders \(sameOrders ? "identical" : "differ (\(books.orders.count) vs \(baseline.orders.count))"), trades \(books.trades == baseline.trades ? "identical" : "differ")")
        }
    }
}
