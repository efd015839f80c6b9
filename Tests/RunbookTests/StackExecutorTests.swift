import ChildProcesses
import Foundation
import Hummingbird
import LocalServers
import NIOCore
import PostgresClient
import RedisClient
import Runbook
import Testing
import TradeStore

@Suite("Runbook checks against real Redis, PostgreSQL and HTTP")
struct StackExecutorTests {
    @Test("the schema check finds the five tables, and names the one that was dropped")
    func schema() async throws {
        let fixture = try await EngineFixture()
        _ = try await TradeStore.open(fixture.executor.stack.postgres)
        let step = """
              - { id: schema, title: Schema, seed: "2.3", check: { type: sql, query: "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", includes: [signals, orders, trades, positions, portfolio_snapshots] } }
        """
        #expect(try await fixture.run(step)["schema"]?.status == .pass)
        let db = try await PostgresConnection(fixture.executor.stack.postgres)
        try await db.execute("DROP TABLE trades")
        let dropped = try await fixture.run(step)["schema"]
        #expect(dropped?.status == .fail)
        #expect(dropped?.detail == "missing: trades")
    }

    @Test("a backup is written, lists the five tables and restores into a scratch database")
    func backup() async throws {
        let fixture = try await EngineFixture()
        _ = try await TradeStore.open(fixture.executor.stack.postgres)
        let result = try #require(try await fixture.run("""
              - { id: backup, title: Backup, seed: "2.3", timeout: 2m, check: { type: backup, directory: backups, restore_check: true } }
        """)["backup"])
        #expect(result.status == .pass, "\(result.detail)")
        #expect(result.detail.contains("restores (0 signals)"))
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture.directory.appendingPathComponent("reports/backups").path)
        #expect(files.count == 2 && files.contains { $0.hasSuffix(".dump") } && files.contains { $0.hasSuffix(".dump.verified.json") }, "\(files)")
        let db = try await PostgresConnection(fixture.executor.stack.postgres)
        let leftovers = try await db.query("SELECT datname FROM pg_database WHERE datname LIKE 'cdb_restore_check_%'")
        #expect(leftovers.count == 0)
    }

    @Test("a backup of a database that cannot be reached fails with pg_dump's reason and leaves no file")
    func backupFails() async throws {
        let fixture = try await EngineFixture(environment: ["POSTGRES_PASSWORD": "wrong-password"])
        let result = try #require(try await fixture.run("""
              - { id: backup, title: Backup, seed: "2.3", timeout: 1m, check: { type: backup, directory: backups } }
        """)["backup"])
        #expect(result.status == .fail)
        #expect(result.detail.contains("password authentication failed"))
        let files = (try? FileManager.default.contentsOfDirectory(atPath: fixture.directory.appendingPathComponent("reports/backups").path)) ?? []
        #expect(files.isEmpty)
    }

    @Test("the event-flow probe is acknowledged hop by hop by a real consumer group; without one it fails naming the group")
    func eventFlow() async throws {
        let fixture = try await EngineFixture()
        let redis = try await RedisConnection(fixture.executor.stack.redis)
        let stream = uniqueName("market_data")
        _ = try await redis.createGroup(stream, group: "cdb_core", startID: "$")
        let step = """
              - { id: flow, title: Flow, seed: "3.1", timeout: 8s, check: { type: redis, op: event_flow, stream: \(stream) } }
        """
        let stalled = try #require(try await fixture.run(step)["flow"])
        #expect(stalled.status == .fail)
        #expect(stalled.detail.contains("not acknowledged by cdb_core"))

        // A consumer that reads and acknowledges, as cdb_core does.
        let consumerConnection = try await RedisConnection(fixture.executor.stack.redis)
        let consumer = Task {
            while !Task.isCancelled {
                let read = try await consumerConnection.readGroup(group: "cdb_core", consumer: "core-1", streams: [stream], count: 10, block: .milliseconds(200))
                let ids = read.flatMap { $0.entries.map(\.id) }
                if !ids.isEmpty { _ = try await consumerConnection.ack(stream, group: "cdb_core", ids: ids) }
            }
        }
        defer { consumer.cancel() }
        let flowing = try #require(try await fixture.run(step)["flow"])
        #expect(flowing.status == .pass, "\(flowing.detail)")
        #expect(flowing.detail.contains("pub/sub mirror in"))
        #expect(flowing.detail.contains("cdb_core acknowledged in"))
    }

    @Test("a consumer group behind by more than allowed is named with its lag")
    func lag() async throws {
        let fixture = try await EngineFixture()
        let redis = try await RedisConnection(fixture.executor.stack.redis)
        let stream = uniqueName("signals")
        _ = try await redis.createGroup(stream, group: "cdb_risk", startID: "0")
        for index in 0..<5 { _ = try await redis.xadd(stream, fields: [("event", "\(index)")]) }
        let result = try #require(try await fixture.run("""
              - { id: lag, title: Lag, seed: "4.1", check: { type: redis, op: lag, streams: [\(stream)], max_lag: 2 } }
        """)["lag"])
        #expect(result.status == .fail)
        #expect(result.detail == "cdb_risk is 5 entries behind on \(stream) (allowed 2)")
    }

    @Test("data growth shows the counts against the previous cycle; the newest signal's age, not the growth, raises the data-stop alarm")
    func dataGrowth() async throws {
        let fixture = try await EngineFixture()
        _ = try await TradeStore.open(fixture.executor.stack.postgres)
        let step = """
              - { id: growth, title: Growth, seed: "4.1", check: { type: data_growth, must_grow: [signals], window: 1h } }
        """
        let empty = try #require(try await fixture.run(step)["growth"])
        #expect(empty.status == .fail, "no signal at all is no signal within the hour: \(empty.detail)")
        #expect(empty.detail.hasPrefix("signals: no row yet (alarm after 1h)"))

        let db = try await PostgresConnection(fixture.executor.stack.postgres)
        func insertSignal(_ id: String, minutesAgo: Int) async throws {
            _ = try await db.execute("""
                INSERT INTO signals (id, symbol, side, confidence, price, strategy, reason, price_time, timestamp, origin_tick_id, schema_version)
                VALUES ($1, 'BTCUSDT', 'BUY', 0.9, 50000, 'momentum', 'test', now() - make_interval(mins => $2::int), now() - make_interval(mins => $2::int), 't', 1)
                """, [id, minutesAgo])
        }
        // The previous cycle four hours ago saw none; one signal 90 minutes old is growth, yet older than the window.
        try await insertSignal("s-old", minutesAgo: 90)
        let fourHoursAgo = Date().addingTimeInterval(-4 * 3600)
        var earlier = empty
        earlier.figures = ["rows.signals": 0]
        let previous = PhaseRecord(phase: .monitor, verdict: .ok, startedAt: fourHoursAgo, finishedAt: fourHoursAgo, results: [earlier])
        let later = try await EngineFixture(environment: ["POSTGRES_DB": fixture.executor.stack.postgres.database], previousCycle: previous)
        let stale = try #require(try await later.run(step)["growth"])
        #expect(stale.status == .fail)
        #expect(stale.detail.hasPrefix("signals: newest row 90 min old (alarm after 1h): "), "\(stale.detail)")
        #expect(stale.detail.contains("signals 1 (+1)") && stale.detail.contains("since 240 min ago"), "\(stale.detail)")

        try await insertSignal("s-new", minutesAgo: 5)
        let fresh = try #require(try await later.run(step)["growth"])
        #expect(fresh.status == .pass, "\(fresh.detail)")
        #expect(fresh.detail.contains("newest signals 5 min old"), "\(fresh.detail)")
        #expect((fresh.figures["newest_age_s.signals"] ?? 0) >= 300)
        await db.close()
    }

    @Test("container, log and Grafana checks fail when no Docker engine answers — never a pass")
    func noEngine() async throws {
        let fixture = try await EngineFixture(environment: ["GRAFANA_PORT": "\(try freeLoopbackPort())"])
        let results = try await fixture.run("""
              - { id: containers, title: C, seed: "2.5", check: { type: containers } }
              - { id: logs, title: L, seed: "3.1", check: { type: logs, services: [cdb_core] } }
              - { id: grafana, title: G, seed: "2.4", check: { type: grafana, dashboard: claire-paper-trading } }
        """)
        #expect(results["containers"]?.status == .fail)
        #expect(results["containers"]?.detail.contains("Docker engine not reachable at unix://") == true)
        #expect(results["logs"]?.status == .fail)
        #expect(results["grafana"]?.status == .fail)
    }

    @Test("persistence: an event the writer acknowledged without a row is lost, a waiting one is not, a signal ordered twice is named")
    func persistence() async throws {
        // Redis database 9 is this test's alone: the check reads the fixed stream names.
        let fixture = try await EngineFixture(environment: ["REDIS_DB": "9"])
        let redis = try await RedisConnection(fixture.executor.stack.redis)
        _ = try await redis.command("FLUSHDB")
        let db = try await PostgresConnection(fixture.executor.stack.postgres)
        try await db.execute("CREATE TABLE signals (id text PRIMARY KEY)")
        try await db.execute("CREATE TABLE orders (id text PRIMARY KEY, signal_id text)")
        let step = """
              - { id: stored, title: Stored, seed: "4.1", check: { type: persistence, streams: [signals, orders], settle: 0s } }
        """
        for stream in ["signals", "orders"] { _ = try await redis.createGroup(stream, group: "cdb_db_writer", startID: "0") }
        func publish(_ stream: String, _ id: String) async throws {
            _ = try await redis.xadd(stream, fields: [("event", #"{"id":"\#(id)","symbol":"BTCUSDT"}"#)])
        }
        for id in ["s1", "s2", "s3"] { try await publish("signals", id) }
        try await publish("orders", "o1")
        // The writer took everything but stored only s1, s2 and o1; s3 is acknowledged: lost.
        for stream in ["signals", "orders"] {
            let delivered = try await redis.readGroup(group: "cdb_db_writer", consumer: "w", streams: [stream], count: 10, block: nil)
            _ = try await redis.ack(stream, group: "cdb_db_writer", ids: delivered.flatMap { $0.entries.map(\.id) })
        }
        try await db.execute("INSERT INTO signals VALUES ('s1'), ('s2')")
        try await db.execute("INSERT INTO orders VALUES ('o1', 's1')")
        let lost = try #require(try await fixture.run(step)["stored"])
        #expect(lost.status == .fail)
        #expect(lost.detail == "1 of 3 events on signals have no row in table signals (first: s3)", "\(lost.detail)")

        // Stored now; a new signal the writer has not taken yet is waiting, not lost.
        try await db.execute("INSERT INTO signals VALUES ('s3')")
        try await publish("signals", "s4")
        let waiting = try #require(try await fixture.run(step)["stored"])
        #expect(waiting.status == .pass, "\(waiting.detail)")
        #expect(waiting.detail == "events stored by cdb_db_writer, each once: signals 3 (1 waiting for cdb_db_writer), orders 1", "\(waiting.detail)")
        let notCaughtUp = try #require(try await fixture.run("""
              - { id: stored, title: Stored, seed: "4.1", check: { type: persistence, streams: [signals], settle: 0s, caught_up: true } }
        """)["stored"])
        #expect(notCaughtUp.status == .fail)
        #expect(notCaughtUp.detail == "1 events on signals still waiting for cdb_db_writer", "\(notCaughtUp.detail)")

        // A redelivered signal acted on twice.
        try await publish("orders", "o2")
        let delivered = try await redis.readGroup(group: "cdb_db_writer", consumer: "w", streams: ["orders"], count: 10, block: nil)
        _ = try await redis.ack("orders", group: "cdb_db_writer", ids: delivered.flatMap { $0.entries.map(\.id) })
        try await db.execute("INSERT INTO orders VALUES ('o2', 's1')")
        let twice = try #require(try await fixture.run(step)["stored"])
        #expect(twice.status == .fail)
        #expect(twice.detail == "orders: one of signals acted on more than once (s1 ×2)", "\(twice.detail)")
        _ = try await redis.command("FLUSHDB")
    }

    @Test("HTTP checks judge status, JSON conditions and latency of a real server")
    func http() async throws {
        let fixture = try await EngineFixture()
        let router = Router()
        router.get("status") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"status":"ok","daily_drawdown":0.051,"total_exposure_pct":0.12}"#)))
        }
        // Port 0 and the port reported once the server listens: no race for a port, no start-up wait.
        let (ports, announce) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in announce.yield(channel.localAddress?.port ?? 0) })
        let results = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            return try await fixture.run("""
                  - { id: risk, title: Risk, seed: "4.2", retries: 3, check: { type: http, url: "http://127.0.0.1:\(port)/status", expect: ["status == 'ok'", "daily_drawdown < 0.05", "total_exposure_pct < 0.30"] } }
                  - { id: missing, title: Missing, seed: "4.2", retries: 3, check: { type: http, url: "http://127.0.0.1:\(port)/nope" } }
            """)
        }
        let risk = try #require(results["risk"])
        #expect(risk.status == .fail)
        #expect(risk.detail.contains("daily_drawdown < 0.05 does not hold: daily_drawdown = 0.051"), "\(risk.detail)")
        #expect(!risk.detail.contains("total_exposure"), "\(risk.detail)")
        let missing = try #require(results["missing"])
        #expect(missing.detail.contains("answered 404, expected 200"), "\(missing.detail)")
    }

    @Test("the project's test command is judged by its counts: no tests run is a failure, not a pass")
    func command() async throws {
        let fixture = try await EngineFixture()
        let results = try await fixture.run("""
              - { id: ran, title: Ran, seed: "2.2", check: { type: command, min_passed: 2, run: [bash, -c, "printf '✔ Test \\"a\\" passed after 0.1 seconds.\\n✔ Test \\"b\\" passed after 0.1 seconds.\\n'"] } }
              - { id: empty, title: Empty, seed: "2.2", check: { type: command, min_passed: 1, run: [bash, -c, "echo nothing to do"] } }
              - { id: red, title: Red, seed: "2.2", check: { type: command, run: [bash, -c, "echo '✘ Test \\"c\\" failed after 0.1 seconds with 1 issue.'; exit 1"] } }
        """)
        #expect(results["ran"]?.status == .pass)
        #expect(results["ran"]?.detail == "2 passed, 0 failed, 0 skipped")
        #expect(results["empty"]?.status == .fail)
        #expect(results["empty"]?.detail.contains("did the suite run at all?") == true)
        #expect(results["red"]?.status == .fail)
        #expect(results["red"]?.detail.hasPrefix("bash -c") == true)
        #expect(results["red"]?.detail.contains("failed: \"c\" (output: \(fixture.directory.path)/reports/commands/") == true)
    }
}

@Suite("Stop actions against real PostgreSQL")
struct StopActionTests {
    @Test("open positions are waited for, then closed in paper mode and listed; with none open the step passes at once")
    func openPositions() async throws {
        let fixture = try await EngineFixture()
        _ = try await TradeStore.open(fixture.executor.stack.postgres)
        let db = try await PostgresConnection(fixture.executor.stack.postgres)
        try await db.execute("""
            INSERT INTO positions (symbol, side, size, entry_price, current_price, unrealized_pnl, status, last_seen_at, snapshot_id)
            VALUES ('BTCUSDT', 'BUY', 0.25, 40000, 40400, 100, 'open', now(), 's1')
            """)
        let step = """
              - { id: positions, title: P, seed: "7.1", timeout: 10s, check: { type: open_positions, wait: 500ms, poll: 100ms, close: true } }
        """
        let closed = try #require(try await fixture.run(step)["positions"])
        #expect(closed.status == .pass)
        #expect(closed.detail == "closed in paper mode after 500ms: BTCUSDT 0.25 @ 40400 (unrealized 100)")
        #expect(try await db.query("SELECT status, closed_at IS NOT NULL AS stamped FROM positions").first.map { [$0["status"], $0["stamped"]] } == ["closed", "t"])
        // Run again (a re-run after a partial failure): nothing left to do.
        #expect(try await fixture.run(step)["positions"]?.detail == "no open positions")
    }

    @Test("without close, positions still open after the wait fail the step")
    func positionsLeftOpen() async throws {
        let fixture = try await EngineFixture()
        _ = try await TradeStore.open(fixture.executor.stack.postgres)
        let db = try await PostgresConnection(fixture.executor.stack.postgres)
        try await db.execute("""
            INSERT INTO positions (symbol, side, size, entry_price, current_price, unrealized_pnl, status, last_seen_at, snapshot_id)
            VALUES ('ETHUSDT', 'BUY', 1, 3000, 2900, -100, 'open', now(), 's1')
            """)
        let result = try await fixture.run("""
              - { id: positions, title: P, seed: "7.1", timeout: 10s, check: { type: open_positions, wait: 300ms, poll: 100ms, close: false } }
        """)["positions"]
        #expect(result?.status == .fail)
        #expect(result?.detail == "1 positions still open after 300ms")
    }

    @Test("stopping containers without an engine fails with the reason — it never reports a stop that did not happen")
    func stopWithoutEngine() async throws {
        let fixture = try await EngineFixture()
        let result = try await fixture.run("""
              - { id: stop, title: S, seed: "7.2", check: { type: container_action, action: stop, services: [cdb_execution] } }
        """)["stop"]
        #expect(result?.status == .fail)
        #expect(result?.detail.contains("Docker engine not reachable") == true)
    }
}

@Suite("Records, audit log and the run lock")
struct RunRecordTests {
    @Test("a second run is refused while the first holds the lock; a lock left by a dead run is taken over")
    func lock() throws {
        let directory = try scratchDirectory("lock").path
        let first = try RunLock(directory: directory, command: "monitor")
        #expect(first.staleHolder == nil)
        #expect(throws: LockHeld.self) { try RunLock(directory: directory, command: "stop") }
        first.release()
        let second = try RunLock(directory: directory, command: "stop")
        #expect(second.staleHolder == nil)
        second.release()
        // A run killed with SIGKILL leaves its line in the file but no flock.
        try "pid 999999 running 'monitor' since 2026-01-01T00:00:00Z".write(toFile: directory + "/.cdbctl.lock", atomically: true, encoding: .utf8)
        let third = try RunLock(directory: directory, command: "go")
        #expect(third.staleHolder?.contains("pid 999999") == true)
        third.release()
    }

    @Test("a command started while the lock is held does not inherit its descriptor")
    func lockNotInherited() async throws {
        let directory = try scratchDirectory("lock-cloexec").path
        let lock = try RunLock(directory: directory, command: "stop")
        defer { lock.release() }
        // The control: a descriptor opened without O_CLOEXEC shows in the child, so the listing does see inheritance.
        let inherited = directory + "/inherited"
        let control = open(inherited, O_RDONLY | O_CREAT, 0o644)
        defer { close(control) }
        // ls lists its own open descriptors: the ones it inherited and the directory it reads.
        let descriptors = try await runToCompletion("/bin/ls", ["-l", "/proc/self/fd/"])
        #expect(descriptors.contains(inherited))
        #expect(!descriptors.contains(lock.path))
    }

    @Test("a saved record becomes the phase's state, with a Markdown twin; the audit log gets one JSON line per action")
    func records() throws {
        let reports = ReportsDirectory(path: try scratchDirectory("reports").path)
        let step = StepResult(id: "env", title: "Env", seed: "2.1", severity: .critical, status: .fail, detail: "A | B", attempts: 1,
                              startedAt: Date(), durationMs: 2, figures: [:], playbook: nil)
        let record = PhaseRecord(phase: .preflight, verdict: .fail, startedAt: Date(), finishedAt: Date(), results: [step])
        let paths = try reports.save(record)
        // Dates are kept to the second in records.
        #expect(reports.lastRecord(of: .preflight)?.results.map(\.detail) == ["A | B"])
        #expect(try String(contentsOfFile: paths.markdown, encoding: .utf8).contains("| env | 2.1 | critical | FAIL | A \\| B |"))
        reports.audit(command: "preflight", action: "step env", outcome: "fail", detail: "A")
        reports.audit(command: "preflight", action: "verdict", outcome: "FAIL")
        let lines = try String(contentsOf: reports.root.appendingPathComponent("audit.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
    }
}
