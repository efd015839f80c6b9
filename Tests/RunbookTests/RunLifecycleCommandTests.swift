import Foundation
import LocalServers
import RedisClient
import Runbook
import Testing

/// The run across cycles through the cdbctl binary, against a Redis server of its own that the test stops and
/// starts again: the alarm opens, repeats, is quiet in maintenance, resolves; after the stop nothing is watched.
@Suite("cdbctl: a run's status and its alarms across cycles")
struct RunLifecycleCommandTests {
    @Test("start → alarm opened, still open, silent in maintenance, resolved → stop → nothing to watch; status and a webhook tell each")
    func runAcrossCycles() async throws {
        let redis = try await LocalRedisServer()
        defer { Task { await redis.stop() } }
        let webhook = try HTTPReceiver()
        defer { webhook.stop() }
        let directory = try scratchDirectory("cdbctl-run")
        try """
            version: 1
            notifications:
              channels:
                - { name: webhook, type: webhook, min_severity: info, url_env: CDB_NOTIFY_WEBHOOK_URL }
              rate_limit: { per_key: 1h, max_per_hour: 30 }
            phases:
              start:
                - { id: up, title: Up, seed: "3.1", check: { type: wait, duration: 0s } }
              monitor:
                - { id: bus, title: Redis answers, seed: "4.2", check: { type: redis, op: ping } }
              stop:
                - { id: down, title: Down, seed: "7.1", check: { type: wait, duration: 0s } }
            """.write(to: directory.appendingPathComponent("runbook.yaml"), atomically: true, encoding: .utf8)
        try "REDIS_PORT=\(redis.port)\nCDB_NOTIFY_WEBHOOK_URL=http://127.0.0.1:\(webhook.port)/hook\n".write(to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        func cdbctl(_ arguments: String...) async throws -> CommandOutput { try await CDBCtl.run(arguments, in: directory) }

        let noRun = try await cdbctl("status")
        #expect(noRun.status == 0 && noRun.output.contains("no run on record"), "\(noRun.output)")
        let started = try await cdbctl("start", "--force")
        #expect(started.status == 0, "\(started.output)")
        let running = try await cdbctl("status")
        #expect(running.output.contains(": RUNNING, day 1 of 7"), "\(running.output)")
        #expect(try await cdbctl("monitor").status == 0)

        await redis.stop()
        // The fault landed: the server no longer answers.
        await #expect(throws: (any Error).self) { _ = try await RedisConnection(redis.configuration) }
        let first = try await cdbctl("monitor")
        #expect(first.status == 1)
        #expect(first.output.contains("alarm opened: CRITICAL bus"), "\(first.output)")
        let second = try await cdbctl("monitor")
        #expect(second.output.contains("alarm still open: CRITICAL bus") && second.output.contains("2 cycles"), "\(second.output)")
        let alarmed = try await cdbctl("status", "--json")
        let document = try JSONSerialization.jsonObject(with: Data(alarmed.output.utf8)) as? [String: Any]
        let open = document?["open_alarms"] as? [[String: Any]]
        #expect(open?.map { $0["key"] as? String } == ["bus"] && open?.first?["cycles"] as? Int == 2, "\(alarmed.output)")

        #expect(try await cdbctl("maintenance", "start", "--reason", "Redis upgrade").status == 0)
        let quiet = try await cdbctl("monitor")
        #expect(quiet.status == 0 && quiet.output.contains("maintenance: 1 alarm not raised"), "\(quiet.output)")
        #expect(try await cdbctl("maintenance", "start", "--reason", "again").status == 2, "a second maintenance is refused")
        #expect(try await cdbctl("maintenance", "end").status == 0)

        try await redis.start()
        let back = try await cdbctl("monitor")
        #expect(back.status == 0)
        #expect(back.output.contains("alarm resolved: CRITICAL bus"), "\(back.output)")
        let ledger = try AlarmLedgerFile(reportsDirectory: directory.appendingPathComponent("reports").path).load()
        #expect(ledger.open.isEmpty && ledger.resolved.map(\.key) == ["bus"])

        #expect(try await cdbctl("stop").status == 0)
        let after = try await cdbctl("monitor")
        #expect(after.status == 0 && after.output.contains("stopped since") && after.output.contains("nothing to watch"), "\(after.output)")
        let stopped = try await cdbctl("status")
        #expect(stopped.output.contains(": STOPPED"), "\(stopped.output)")
        let run = RunJournal(reportsDirectory: directory.appendingPathComponent("reports").path).current()
        #expect(run?.history.map(\.to) == [.go, .running, .maintenance, .running, .stopping, .stopped])
        // What reached the operator, in order: the start, the alarm once (its repeat within the hour is not news),
        // nothing from the maintenance cycle, the resolution, the stop.
        let sent = webhook.requests.compactMap(\.json).map { "\($0["kind"] ?? "?") \($0["alarm"] ?? "")" }
        #expect(sent == ["started phase:start:operational", "alarm_opened bus", "alarm_resolved bus", "stopped phase:stop:stopped"], "\(sent)")
        #expect(webhook.requests.compactMap(\.json).allSatisfy { $0["run_id"] as? String == run?.id })
    }
}
