import EventBus
import Foundation
import HTTPClient
import LocalServers
import PersistenceService
import PostgresClient
import RedisClient
import ServiceHost
import StackContract
import Testing
import TradingCore
import TradingServices

/// The service executables built next to this test bundle.
enum ServiceBinaries {
    static let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()

    static func path(_ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw LocalServerError(message: "\(path) is missing: build with `swift build --build-tests`")
        }
        return path
    }

    /// Starts a service with `environment` (plus PATH) and its log in a temporary file.
    static func start(_ name: String, environment: [String: String]) throws -> (ChildProcess, log: URL) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).log")
        var env = environment
        env["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        return (try ChildProcess(try path(name), [], outputPath: log.path, environment: env), log)
    }

    /// Waits until `GET url` answers 200.
    static func waitHealthy(_ url: String, within limit: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let response = try? await HTTPClient().get(url, timeout: .seconds(2)), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw LocalServerError(message: "\(url) did not answer 200 within \(limit)")
    }
}

/// Services started as processes on one shared environment, each on its own HTTP port (kept across a restart),
/// as the pipeline tests run them; `stopAll()` kills what is left and removes the logs.
final class ServiceFleet {
    private let common: [String: String]
    private var processes: [String: ChildProcess] = [:]
    private var ports: [String: Int] = [:]
    private var logs: [URL] = []

    init(environment: [String: String]) {
        common = environment
    }

    /// Starts `name` with `extra` settings and waits until its /health answers 200.
    func start(_ name: String, extra: [String: String] = [:]) async throws {
        let port = try ports[name] ?? freeLoopbackPort()
        ports[name] = port
        let environment = common.merging(extra) { $1 }.merging(["HTTP_PORT": "\(port)"]) { $1 }
        let (process, log) = try ServiceBinaries.start(name, environment: environment)
        processes[name] = process
        logs.append(log)
        try await ServiceBinaries.waitHealthy("http://127.0.0.1:\(port)/health")
    }

    /// SIGKILL: no chance to acknowledge or save anything.
    func kill(_ name: String) {
        processes[name]?.send(SIGKILL)
        processes[name]?.waitForExit()
        processes[name] = nil
    }

    /// The base URL of `name`'s HTTP endpoints.
    func url(of name: String) -> String {
        "http://127.0.0.1:\(ports[name] ?? 0)"
    }

    func stopAll() {
        for name in Array(processes.keys) { kill(name) }
        for log in logs { try? FileManager.default.removeItem(at: log) }
    }
}

@Suite("Service processes")
struct ServiceProcessTests {
    @Test("SIGTERM: a running service finishes its work and exits 0 well within docker's 10 s")
    func sigtermShutdown() async throws {
        let redis = try await SharedServers.redis()
        let port = try freeLoopbackPort()
        let (process, log) = try ServiceBinaries.start("cdb_core", environment: ["REDIS_PORT": "\(redis.port)", "HTTP_PORT": "\(port)"])
        defer { try? FileManager.default.removeItem(at: log) }
        try await ServiceBinaries.waitHealthy("http://127.0.0.1:\(port)/health")
        let start = ContinuousClock.now
        process.send(SIGTERM)
        let status = await process.exitStatus()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "log:\n\(output)")
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(output.contains("INFO cdb_core: stopped"))
    }

    @Test("every service's /metrics has a latency histogram per hop, and the live hops record")
    func hopLatencyHistograms() async throws {
        let redis = try await LocalRedisServer()
        let postgres = try await SharedServers.postgres()
        let database = try await postgres.createDatabase()
        let common = ["REDIS_PORT": "\(redis.port)", "POSTGRES_PORT": "\(postgres.port)", "POSTGRES_PASSWORD": postgres.password,
                      "POSTGRES_DB": database.database, "FEED": "synthetic", "SYNTHETIC_INTERVAL_MS": "10"]
        // Each service with the hops it must expose and those that must have recorded by now (ticks flow; orders may not).
        let services: [(name: String, hops: [String], recorded: [String])] = [
            ("cdb_ws", ["exchange"], ["exchange"]),
            ("cdb_core", ["market_data"], ["market_data"]),
            ("cdb_risk", ["market_data", "signals", "order_results"], ["market_data"]),
            ("cdb_execution", ["market_data", "orders"], ["market_data"]),
            ("cdb_db_writer", BusStream.persisted.map(\.rawValue), []),
        ]
        var running: [(process: ChildProcess, log: URL, port: Int)] = []
        defer {
            // Clean-up kills: a SIGTERM's graceful shutdown would park one of the two cooperative threads meanwhile.
            for service in running { service.process.send(SIGKILL); service.process.waitForExit(); try? FileManager.default.removeItem(at: service.log) }
        }
        for service in services {
            let port = try freeLoopbackPort()
            let (process, log) = try ServiceBinaries.start(service.name, environment: common.merging(["HTTP_PORT": "\(port)"]) { $1 })
            running.append((process, log, port))
            try await ServiceBinaries.waitHealthy("http://127.0.0.1:\(port)/health")
        }
        try await Task.sleep(for: .seconds(1))
        for (service, process) in zip(services, running) {
            let text = String(decoding: try await HTTPClient().get("http://127.0.0.1:\(process.port)/metrics").body, as: UTF8.self)
            for hop in service.hops {
                let count = text.split(separator: "\n").first { $0.hasPrefix("cdb_hop_latency_seconds_count{from=\"\(hop)\"}") }
                    .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
                #expect(count != nil, "\(service.name) /metrics lacks the \(hop) hop:\n\(text)")
                #expect(text.contains("cdb_hop_latency_seconds_bucket{from=\"\(hop)\",le=\"0.01\"}"), "\(service.name): no 10 ms bucket for \(hop)")
                if service.recorded.contains(hop) { #expect((count ?? 0) > 0, "\(service.name) recorded nothing on the \(hop) hop") }
            }
        }
    }

    @Test("invalid configuration: exit 2 with every problem on its own line, nothing started")
    func configurationErrors() async throws {
        let (process, log) = try ServiceBinaries.start("cdb_risk", environment: [
            "MAX_POSITION_PCT": "abc", "REDIS_PORT": "x", "MAX_DAILY_DRAWDOWN_PCT": "0.9", "MALLOC_ARENA_MAX": "lots",
        ])
        defer { try? FileManager.default.removeItem(at: log) }
        let status = await process.exitStatus()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(status == 2)
        #expect(output.contains("cdb_risk: invalid configuration (4 problems):"))
        #expect(output.contains("  MALLOC_ARENA_MAX: expected an integer, got 'lots'"))
        #expect(output.contains("  REDIS_PORT: expected an integer, got 'x'"))
        #expect(output.contains("  MAX_POSITION_PCT: expected a number, got 'abc'"))
        #expect(output.contains("  MAX_DAILY_DRAWDOWN_PCT: 0.9 is outside the valid range 0.01-0.5"))
        #expect(!output.contains("Fatal error"))
    }

    @Test("an unreachable Redis is a clear error naming the target, not a crash")
    func unreachableRedis() async throws {
        let deadPort = try freeLoopbackPort()
        let (process, log) = try ServiceBinaries.start("cdb_execution", environment: [
            "REDIS_PORT": "\(deadPort)", "HTTP_PORT": "\(try freeLoopbackPort())",
        ])
        defer { try? FileManager.default.removeItem(at: log) }
        try await Task.sleep(for: .seconds(1))
        process.send(SIGTERM)
        let status = await process.exitStatus()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(status == 0)
        #expect(output.contains("ERROR cdb_execution: stream consumer failed, retrying"))
        #expect(output.contains("redis 127.0.0.1:\(deadPort)"))
        #expect(!output.contains("Fatal error"))
    }
}

/// A BUY signal priced and timed at `time`, as cdb_core would publish it.
func buySignal(_ id: String, symbol: String = "BTCUSDT", price: Double = 50_000, at time: Date) -> TradingSignal {
    TradingSignal(id: id, symbol: symbol, side: .buy, confidence: 1, price: price, strategy: "test", reason: "test",
                  eventTime: time, originTickId: "tick-" + id, priceTime: time)
}

@Suite("Service state and staleness across restarts")
struct ServiceRestartTests {
    /// Reads one stream entry's event from `stream`, waiting for it to appear.
    private func nextEvent(_ redis: RedisConnection, stream: String, after id: String, within limit: Duration = .seconds(15)) async throws -> (id: String, json: [String: Any])? {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let reply = try await redis.command("XRANGE", stream, "(" + id, "+", "COUNT", 1)
            if let entry = reply.array?.first?.array, entry.count == 2, let entryID = entry[0].string,
               let fields = entry[1].array, fields.count >= 2, let bytes = fields[1].bytes,
               let json = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] {
                return (entryID, json)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    @Test("cdb_execution rejects an order that waited past the staleness limit and fills a fresh one at the real price")
    func executionRejectsWaitedOrders() async throws {
        let redis = try await LocalRedisServer()
        let port = try freeLoopbackPort()
        let (process, log) = try ServiceBinaries.start("cdb_execution", environment: ["REDIS_PORT": "\(redis.port)", "HTTP_PORT": "\(port)"])
        defer { process.send(SIGKILL); process.waitForExit(); try? FileManager.default.removeItem(at: log) }
        try await ServiceBinaries.waitHealthy("http://127.0.0.1:\(port)/health")
        let bus = try await RedisConnection(redis.configuration)
        let now = Date()
        let tick = MarketTick(id: "tick-1", symbol: "BTCUSDT", price: 50_000, quantity: 1, aggressorSide: .buy, eventTime: now, source: .synthetic)
        try await bus.xadd("market_data", fields: [("event", EventEnvelope.encode(tick))])
        try await Task.sleep(for: .milliseconds(300))
        func order(_ id: String, pricedAt time: Date) -> OrderRequest {
            OrderRequest(id: id, signalId: nil, symbol: "BTCUSDT", side: .buy, quantity: 0.01, referencePrice: 50_000,
                         priceTime: time, maxSlippagePct: 0.01, reduceOnly: false, eventTime: time, originTickId: "tick-1")
        }
        try await bus.xadd("orders", fields: [("event", EventEnvelope.encode(order("waited", pricedAt: now.addingTimeInterval(-45))))])
        try await bus.xadd("orders", fields: [("event", EventEnvelope.encode(order("fresh", pricedAt: now)))])
        let first = try #require(try await nextEvent(bus, stream: "order_results", after: "0"))
        #expect(first.json["order_id"] as? String == "waited")
        #expect(first.json["status"] as? String == "REJECTED")
        #expect(first.json["reason"] as? String == "STALE_PRICE")
        #expect(first.json["fill_price"] == nil)
        let second = try #require(try await nextEvent(bus, stream: "order_results", after: first.id))
        #expect(second.json["order_id"] as? String == "fresh")
        #expect(second.json["status"] as? String == "FILLED")
        let price = try #require(second.json["fill_price"] as? Double)
        #expect(price > 50_000 && price < 50_000 * 1.001)  // the real price plus modelled slippage
    }

    @Test("with the market clock cdb_execution fills at the quote as of the order's price time, waiting for market data to reach it")
    func executionFillsAsOfPriceTime() async throws {
        let redis = try await LocalRedisServer()
        let port = try freeLoopbackPort()
        let (process, log) = try ServiceBinaries.start(
            "cdb_execution", environment: ["REDIS_PORT": "\(redis.port)", "HTTP_PORT": "\(port)", "CLOCK": "market", "SLIPPAGE_BASE_PCT": "0",
                                            "SLIPPAGE_IMPACT_PCT": "0"])
        defer { process.send(SIGKILL); process.waitForExit(); try? FileManager.default.removeItem(at: log) }
        try await ServiceBinaries.waitHealthy("http://127.0.0.1:\(port)/health")
        let bus = try await RedisConnection(redis.configuration)
        let start = Date(timeIntervalSince1970: 1_641_000_000)  // January 2022: only the market clock may fill here
        func tick(_ minute: Int, _ price: Double) async throws {
            let tick = MarketTick(id: "tick-\(minute)", symbol: "BTCUSDT", price: price, quantity: 1, aggressorSide: .buy,
                                  eventTime: start.addingTimeInterval(Double(minute) * 60), source: .replay)
            try await bus.xadd("market_data", fields: [("event", EventEnvelope.encode(tick))])
        }
        func order(_ id: String, minute: Int, reference: Double) -> OrderRequest {
            let time = start.addingTimeInterval(Double(minute) * 60)
            return OrderRequest(id: id, signalId: nil, symbol: "BTCUSDT", side: .buy, quantity: 0.01, referencePrice: reference,
                                priceTime: time, maxSlippagePct: 0.01, reduceOnly: false, eventTime: time, originTickId: "tick-\(minute)")
        }
        for (minute, price) in [(0, 47_000.0), (1, 47_100), (2, 47_200)] { try await tick(minute, price) }
        try await Task.sleep(for: .milliseconds(300))
        // Priced at minute 1 while the newest quote is minute 2: filled at minute 1's price, not the newest.
        try await bus.xadd("orders", fields: [("event", EventEnvelope.encode(order("as-of", minute: 1, reference: 47_100)))])
        let first = try #require(try await nextEvent(bus, stream: "order_results", after: "0"))
        #expect(first.json["status"] as? String == "FILLED")
        #expect(first.json["fill_price"] as? Double == 47_100)
        // Priced at minute 3, which market data has not reached: it waits for that tick and fills at its price.
        try await bus.xadd("orders", fields: [("event", EventEnvelope.encode(order("ahead", minute: 3, reference: 47_300)))])
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await bus.length(of: "order_results") == 1)
        try await tick(3, 47_300)
        let second = try #require(try await nextEvent(bus, stream: "order_results", after: first.id))
        #expect(second.json["order_id"] as? String == "ahead")
        #expect(second.json["fill_price"] as? Double == 47_300)
    }

    @Test("cdb_risk started again under a changed limit enforces it and says so; under a changed capital it refuses, naming the reset")
    func riskSettingsApplyAtStart() async throws {
        let redis = try await LocalRedisServer()
        let bus = try await RedisConnection(redis.configuration)
        let port = try freeLoopbackPort()
        let environment = ["REDIS_PORT": "\(redis.port)", "HTTP_PORT": "\(port)"]
        var (process, log) = try ServiceBinaries.start("cdb_risk", environment: environment)
        try await ServiceBinaries.waitHealthy("http://127.0.0.1:\(port)/health")
        let now = Date()
        let signal = buySignal("signal-1", at: now)
        try await bus.xadd("signals", fields: [("event", EventEnvelope.encode(signal))])
        #expect(try await nextEvent(bus, stream: "orders", after: "0") != nil)
        process.send(SIGTERM)
        #expect(await process.exitStatus() == 0)
        try? FileManager.default.removeItem(at: log)

        // A tighter position limit: enforced from this start, on /status and announced on alerts.
        (process, log) = try ServiceBinaries.start("cdb_risk", environment: environment.merging(["MAX_POSITION_PCT": "0.05"]) { $1 })
        try await ServiceBinaries.waitHealthy("http://127.0.0.1:\(port)/health")
        let status = try await HTTPClient().get("http://127.0.0.1:\(port)/status")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(status.body)) as? [String: Any])
        let limits = try #require(document["limits"] as? [String: Any])
        #expect(limits.values.contains { ($0 as? Double) == 0.05 }, "\(limits)")
        let alert = try #require(try await nextEvent(bus, stream: "alerts", after: "0"))
        #expect(alert.json["kind"] as? String == "settings_changed")
        #expect((alert.json["message"] as? String)?.contains("MAX_POSITION_PCT 0.1 → 0.05") == true, "\(alert.json)")
        let eth = buySignal("signal-2", symbol: "ETHUSDT", price: 2_000, at: Date())
        try await bus.xadd("signals", fields: [("event", EventEnvelope.encode(eth))])
        let firstOrder = try #require(try await bus.range("orders", count: 10).first?.id)
        let order = try #require(try await nextEvent(bus, stream: "orders", after: firstOrder))
        let notional = (order.json["quantity"] as? Double ?? 0) * (order.json["reference_price"] as? Double ?? 0)
        #expect(notional > 0 && notional <= 5_000, "an order of \(notional) USD under a 5 % limit")
        process.send(SIGTERM)
        #expect(await process.exitStatus() == 0)
        try? FileManager.default.removeItem(at: log)

        // Another starting capital with the account saved: refused, with the way out.
        (process, log) = try ServiceBinaries.start("cdb_risk", environment: environment.merging(["STARTING_CAPITAL_USD": "50000"]) { $1 })
        defer { try? FileManager.default.removeItem(at: log) }
        #expect(await process.exitStatus() == 1)
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(output.contains("started with 100000.00 USD but STARTING_CAPITAL_USD is 50000.00"), "\(output)")
        #expect(output.contains("cdbctl risk reset-account --yes"), "\(output)")
    }

    @Test("cdb_risk keeps its portfolio and its memory of handled signals across a restart")
    func riskStateSurvivesRestart() async throws {
        let redis = try await LocalRedisServer()
        let bus = try await RedisConnection(redis.configuration)
        let port = try freeLoopbackPort()
        let environment = ["REDIS_PORT": "\(redis.port)", "HTTP_PORT": "\(port)"]
        var (process, log) = try ServiceBinaries.start("cdb_risk", environment: environment)
        try await ServiceBinaries.waitHealthy("http://127.0.0.1:\(port)/health")
        let now = Date()
        let signal = buySignal("signal-1", at: now)
        try await bus.xadd("signals", fields: [("event", EventEnvelope.encode(signal))])
        let approved = try #require(try await nextEvent(bus, stream: "orders", after: "0"))
        let orderID = try #require(approved.json["id"] as? String)
        let quantity = try #require(approved.json["quantity"] as? Double)
        let fill = OrderResult(id: "result-1", orderId: orderID, symbol: "BTCUSDT", side: .buy, status: .filled, requestedQuantity: quantity,
                               filledQuantity: quantity, fillPrice: 50_000, fee: 0, slippagePct: 0, reason: nil, message: nil,
                               eventTime: now, originTickId: "tick-1")
        try await bus.xadd("order_results", fields: [("event", EventEnvelope.encode(fill))])
        try await Task.sleep(for: .milliseconds(500))

        process.send(SIGTERM)
        #expect(await process.exitStatus() == 0)
        try? FileManager.default.removeItem(at: log)
        (process, log) = try ServiceBinaries.start("cdb_risk", environment: environment)
        defer { process.send(SIGKILL); process.waitForExit(); try? FileManager.default.removeItem(at: log) }
        try await ServiceBinaries.waitHealthy("http://127.0.0.1:\(port)/health")

        let status = try await HTTPClient().get("http://127.0.0.1:\(port)/status")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(status.body)) as? [String: Any])
        let positions = try #require(document["open_positions"] as? [[String: Any]])
        #expect(positions.count == 1)
        #expect((positions.first?["size"] as? Double).map { abs($0 - quantity) < 1e-12 } == true)
        // The same signal delivered again (at-least-once) must not buy a second time.
        try await bus.xadd("signals", fields: [("event", EventEnvelope.encode(signal))])
        try await Task.sleep(for: .milliseconds(700))
        #expect(try await bus.length(of: "orders") == 1)
    }

    @Test("cdb_risk saves a decision at once, a mark only when due or at a graceful stop")
    func riskSavesMarksLate() async throws {
        let redis = try await LocalRedisServer()
        let bus = try await RedisConnection(redis.configuration)
        let port = try freeLoopbackPort()
        let (process, log) = try ServiceBinaries.start("cdb_risk", environment: [
            "REDIS_PORT": "\(redis.port)", "HTTP_PORT": "\(port)", "MARK_SAVE_INTERVAL_MS": "60000"])
        defer { try? FileManager.default.removeItem(at: log) }
        try await ServiceBinaries.waitHealthy("http://127.0.0.1:\(port)/health")
        func saved() async throws -> String {
            String(decoding: try await bus.command("GET", RiskStage.stateKey).bytes ?? [], as: UTF8.self)
        }
        let now = Date()
        let signal = buySignal("signal-1", at: now)
        try await bus.xadd("signals", fields: [("event", EventEnvelope.encode(signal))])
        _ = try #require(try await nextEvent(bus, stream: "orders", after: "0"))
        #expect(try await saved().contains("signal-1"))  // saved before the order went out

        let tick = MarketTick(id: "tick-2", symbol: "BTCUSDT", price: 51_234, quantity: 1, eventTime: Date(), source: .synthetic)
        try await bus.xadd("market_data", fields: [("event", EventEnvelope.encode(tick))])
        try await Task.sleep(for: .milliseconds(1_500))
        #expect(try await saved().contains("51234") == false)  // a mark alone waits for MARK_SAVE_INTERVAL_MS

        process.send(SIGTERM)
        #expect(await process.exitStatus() == 0)
        #expect(try await saved().contains("51234"))  // … but a graceful stop saves it
    }
}
