import Foundation
import Runbook
import Testing

@Suite("The monitor's daily log archive")
struct DailyArchiveTests {
    static let step = """
          - { id: archive, title: Logs, seed: "7.1", timeout: 30s, check: { type: archive_logs, directory: logs, tail: 10, every: 20h } }
    """

    @Test("an archive younger than every: is kept without asking the engine; an older one means a new archive (here: no engine, a failure)")
    func keptWhileYoung() async throws {
        let fixture = try await EngineFixture()
        let logs = fixture.directory.appendingPathComponent("reports/logs")
        let young = logs.appendingPathComponent(ReportsDirectory.stampFormatter.string(from: Date().addingTimeInterval(-3600)))
        try FileManager.default.createDirectory(at: young, withIntermediateDirectories: true)
        let kept = try #require(try await fixture.run(Self.step)["archive"])
        #expect(kept.status == .pass)
        #expect(kept.detail == "\(young.path) is 1 h 0 min old (a new one every 20h)", "\(kept.detail)")

        try FileManager.default.moveItem(at: young, to: logs.appendingPathComponent(ReportsDirectory.stampFormatter.string(from: Date().addingTimeInterval(-30 * 3600))))
        let due = try #require(try await fixture.run(Self.step)["archive"])
        #expect(due.status == .fail, "\(due.detail)")
    }
}
