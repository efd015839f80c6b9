import Foundation
import LocalServers
import PostgresClient
import RedisClient
import Runbook
import Testing

/// An executor over real local servers, and a phase parsed from YAML the way runbook.yaml is.
struct EngineFixture {
    var executor: StackExecutor
    let directory: URL

    init(environment extra: [String: String] = [:], previousCycle: PhaseRecord? = nil) async throws {
        let redis = try await SharedServers.redis()
        let postgres = try await SharedServers.postgres()
        let database = try await postgres.createDatabase()
        directory = try scratchDirectory("cdbctl")
        var environment = [
            "REDIS_PORT": "\(redis.port)", "POSTGRES_PORT": "\(postgres.port)", "POSTGRES_USER": postgres.user,
            "POSTGRES_PASSWORD": postgres.password, "POSTGRES_DB": database.database,
            // No engine here: container checks must fail, never pass.
            "DOCKER_HOST": "unix://\(directory.path)/no-docker.sock",
        ]
        environment.merge(extra) { _, new in new }
        var stack = try StackSettings(environment: environment)
        // cdbctl's 3 s suits a stack of its own; these checks share the test server with whole suites (LocalPostgresServer).
        stack.postgres.connectTimeoutSeconds = LocalPostgresServer.connectTimeoutSeconds
        let settings = try RunbookDefinition.parse("version: 1\nphases: {}\n", file: "runbook.yaml", baseDirectory: directory.path).settings
        executor = StackExecutor(environment: environment, stack: stack, runbook: settings, projectDirectory: directory.path,
                                 reportsDirectory: directory.appendingPathComponent("reports").path, previousCycle: previousCycle)
    }

    func phase(_ steps: String, concurrency: Int = 4) throws -> RunbookPhase {
        let text = "version: 1\nphases:\n  preflight:\n    concurrency: \(concurrency)\n    steps:\n" + steps
        return try RunbookDefinition.parse(text, file: "runbook.yaml", baseDirectory: directory.path).phase(.preflight)
    }

    func run(_ steps: String, concurrency: Int = 4, holdInterval: Duration = .milliseconds(100)) async throws -> [String: StepResult] {
        let results = await RunbookEngine(holdInterval: holdInterval).run(try phase(steps, concurrency: concurrency), executor: executor)
        return Dictionary(uniqueKeysWithValues: results.map { ($0.id, $0) })
    }
}

@Suite("Runbook engine on real servers")
struct RunbookEngineTests {
    @Test("a passing and a failing check, each with what it found")
    func passAndFail() async throws {
        let fixture = try await EngineFixture()
        let results = try await fixture.run("""
              - { id: ping, title: Redis answers, seed: "2.1", check: { type: redis, op: ping } }
              - { id: sum, title: Arithmetic, seed: "2.1", check: { type: sql, query: "SELECT 1 + 1 AS n", expect: ["n == 3"] } }
        """)
        #expect(results["ping"]?.status == .pass)
        #expect(results["ping"]?.detail.contains("PONG") == true)
        #expect(results["sum"]?.status == .fail)
        #expect(results["sum"]?.detail == "n == 3 does not hold: n = 2")
    }

    @Test("a step past its timeout fails as a timeout, and its command is stopped")
    func timeout() async throws {
        let fixture = try await EngineFixture()
        let pidFile = fixture.directory.appendingPathComponent("slow.pid").path
        let start = ContinuousClock.now
        // The command ignores SIGTERM, so it outlives the deadline until the SIGKILL that follows 5 s later: a step
        // that returned at its deadline would leave it running.
        let results = try await fixture.run("""
              - { id: slow, title: Slow, seed: "2.2", timeout: 500ms, check: { type: command, run: [bash, -c, "trap '' TERM; echo $$ > \(pidFile); exec sleep 30"] } }
        """)
        #expect(results["slow"]?.status == .fail)
        #expect(results["slow"]?.detail.contains("no result within 500ms (timeout)") == true)
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == -1 && errno == ESRCH, "the step returned while its command (pid \(pid)) was still running")
        // Before the command's own 30 s: stopped, not waited out.
        #expect(ContinuousClock.now - start < .seconds(25))
    }

    @Test("a timed-out command step ends its whole process group: a child it started in the background is gone too")
    func timeoutEndsProcessGroup() async throws {
        let fixture = try await EngineFixture()
        let pidFile = fixture.directory.appendingPathComponent("grandchild.pid").path
        // The command starts a grandchild that ignores SIGTERM, then waits; killing only the command would leave it.
        let results = try await fixture.run("""
              - { id: slow, title: Slow, seed: "2.2", timeout: 500ms, check: { type: command, run: [bash, -c, "(trap '' TERM; exec sleep 60) & echo $! > \(pidFile); wait"] } }
        """)
        #expect(results["slow"]?.status == .fail)
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // The fault landed: the grandchild had started in the step's group before the deadline.
        #expect(getpgid(pid) == -1 || getpgid(pid) != getpgrp(), "the grandchild ran in cdbctl's own process group")
        // Reaped by whoever adopted it, it may linger a moment as a zombie; it must be gone or dead within a second.
        var gone = false
        for _ in 0..<20 where !gone {
            gone = kill(pid, 0) == -1 && errno == ESRCH || isZombie(pid)
            if !gone { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(gone, "the background child (pid \(pid)) outlived its timed-out step")
    }

    private func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }

    @Test("a failing step is retried after its delay and passes on the second attempt")
    func retry() async throws {
        let fixture = try await EngineFixture()
        let marker = fixture.directory.appendingPathComponent("tried").path
        let results = try await fixture.run("""
              - id: flaky
                title: Fails once
                seed: "2.2"
                retries: 2
                retry_delay: 100ms
                check: { type: command, min_passed: 1, run: [bash, -c, "test -f \(marker) || { touch \(marker); exit 1; }; echo '✔ Test \\"x\\" passed after 0.1 seconds.'"] }
        """)
        #expect(results["flaky"]?.status == .pass)
        #expect(results["flaky"]?.attempts == 2)
        #expect(results["flaky"]?.detail.contains("(attempt 2 of 3)") == true)
    }

    @Test("steps wait for what they need; a failed need skips its dependants with the reason")
    func dependencies() async throws {
        let fixture = try await EngineFixture()
        let results = try await fixture.run("""
              - { id: first, title: First, seed: "2.1", check: { type: redis, op: ping } }
              - { id: broken, title: Broken, seed: "2.1", check: { type: sql, query: "SELECT * FROM no_such_table" } }
              - { id: second, title: Second, seed: "2.1", needs: [first], check: { type: redis, op: ping } }
              - { id: blocked, title: Blocked, seed: "2.1", needs: [second, broken], check: { type: redis, op: ping } }
        """)
        let first = try #require(results["first"]), second = try #require(results["second"])
        #expect(second.startedAt >= first.startedAt.addingTimeInterval(first.durationMs / 1000 - 0.001))
        #expect(results["broken"]?.detail.contains("42P01") == true)
        #expect(results["blocked"]?.status == .skip)
        #expect(results["blocked"]?.detail == "not run: needs 'broken', which did not pass")
    }

    @Test("no more steps run at once than the phase allows")
    func concurrencyBound() async throws {
        let fixture = try await EngineFixture()
        let steps = (1...6).map { #"      - { id: s\#($0), title: S, seed: "2.2", check: { type: wait, duration: 300ms } }"# }.joined(separator: "\n")
        for bound in [1, 3] {
            let results = Array(try await fixture.run(steps, concurrency: bound).values)
            // The largest number of steps whose run intervals overlap at any start instant.
            let overlap = results.map { probe in
                results.filter { $0.startedAt <= probe.startedAt && $0.startedAt.addingTimeInterval($0.durationMs / 1000) > probe.startedAt }.count
            }.max() ?? 0
            #expect(overlap == bound)
        }
    }

    @Test("a for: condition passes only after holding for the whole window; one that fails never passes")
    func holdFor() async throws {
        let fixture = try await EngineFixture()
        let results = try await fixture.run("""
              - { id: steady, title: Steady, seed: "3.2", for: 1s, timeout: 30s, check: { type: redis, op: ping } }
              - { id: never, title: Never, seed: "3.2", for: 1s, timeout: 1s, check: { type: sql, query: "SELECT 0 AS n", expect: ["n == 1"] } }
        """)
        #expect(results["steady"]?.status == .pass)
        #expect(results["steady"]?.detail.hasSuffix("(held for 1s)") == true)
        #expect((results["steady"]?.durationMs ?? 0) >= 1000)
        #expect(results["never"]?.status == .fail)
        #expect(results["never"]?.detail.contains("must hold for 1s") == true)
    }
}
