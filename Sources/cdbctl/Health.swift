import ArgumentParser
import Foundation
import Runbook

/// `cdbctl health`: Redis, PostgreSQL and every service's /health, at a glance.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe Redis, PostgreSQL and each service's /health endpoint.",
        discussion: "Exit 0 when everything is up, 1 when anything is down or degraded, 2 on a configuration error.")

    @OptionGroup var options: GlobalOptions

    @Option(help: "Seconds to wait for each probe.")
    var timeout: Int = 3

    func validate() throws {
        guard (1...60).contains(timeout) else { throw ValidationError("--timeout: expected 1-60 seconds, got \(timeout)") }
    }

    func run() async throws {
        let settings = try options.settings()
        let results = await HealthSurvey(settings: settings, timeout: .seconds(timeout)).run()
        if options.json {
            print(TableOutput.json(results))
        } else {
            print(TableOutput.table(
                headers: ["TARGET", "STATUS", "LATENCY", "DETAIL"],
                rows: results.map { [$0.target, $0.status.rawValue.uppercased(), $0.latencyMs.map { String(format: "%.1f ms", $0) } ?? "-", $0.detail] },
                statusColumn: 1))
        }
        if results.contains(where: { $0.status != .up }) { throw CommandFailure.failed(nil) }
    }
}
