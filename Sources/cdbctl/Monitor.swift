import ArgumentParser
import Foundation
import Runbook

/// `cdbctl monitor`: one cycle of seed §4, for cron.
struct Monitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One monitoring cycle (seed §4): containers, health, risk figures, data growth, the §4.2 alarm table.",
        discussion: """
        Meant for cron, every 4 hours: runbook.yaml's schedule has it, `cdbctl schedule --install` puts it in the crontab.

        Exit 0 when no alarm is raised, 1 on any alarm (WARNING or CRITICAL), 3 when another run holds the lock.
        """)

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Hand each alarm to its incident playbook (seed §4.2's action column) right after the cycle.")
    var remediate = false

    func run() async throws {
        let session = try await options.session(command: remediate ? "monitor --remediate" : "monitor")
        var alarms: [Alarm] = []
        var record = try await session.runPhase(.monitor) { results in
            alarms = AlarmTable.alarms(from: results)
            return (AlarmTable.verdict(alarms), alarms.map { "ALARM \($0.severity.rawValue.uppercased()): \($0.message)" + ($0.playbook.map { " → cdbctl incident \($0)" } ?? "") })
        }
        record.alarms = alarms
        if remediate {
            await session.withRunner { await Remediation.run(for: &record, with: $0) }
        }
        try session.finish(record, failed: !alarms.isEmpty)
    }
}
