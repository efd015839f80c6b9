import DockerClient
import Foundation
import YAMLParser

/// `type: incident_report`: the emergency-stop incident report of seed §7.2.
public struct IncidentReportCheck: CheckType {
    public var directory: String

    public static let typeName = "incident_report"
    public static let keys = ["directory"]

    public static func decode(from reader: CheckReader) -> IncidentReportCheck? {
        IncidentReportCheck(directory: reader.optional("directory", as: String.self) ?? "incidents")
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.incidentReport(directory: directory)
    }
}

extension CheckContext {
    fileprivate func incidentReport(directory: String) async throws -> CheckOutcome {
        let folder = try privateOutputFolder(directory)
        let now = Date()
        var text = ["# Emergency stop", "", "- Date: \(ISO8601DateFormatter().string(from: now))", "- Reason: \(command.stopReason ?? "(none given)")", "",
                    "## Container status before the stop", "", "| Container | State | Health | Restarts |", "|---|---|---|---|"]
        text += command.containersBeforeStop.map { "| \($0.service) | \($0.state) | \($0.health ?? "-") | \($0.restartCount) |" }
        if command.containersBeforeStop.isEmpty { text.append("| (no containers found) | | | |") }
        text += ["", "## Last 200 log lines", ""]
        if let engine = try? DockerEngine(environment: environment, project: runbook.project), let containers = try? await engine.containers() {
            for container in containers {
                let lines = (try? await engine.logs(of: container, tail: 200)) ?? ["(logs unavailable)"]
                text += ["### \(container.service)", "", "```"] + lines + ["```", ""]
            }
        } else {
            text.append("(the Docker engine did not answer)")
        }
        text += ["## Next steps", "", "- Root-cause analysis", "- Bug fix", "- New test start after validation (cdbctl preflight, go, start)"]
        let path = "\(folder)/emergency-stop-\(ReportsDirectory.stampFormatter.string(from: now)).md"
        try writeOperatorText(text.joined(separator: "\n") + "\n", to: path)
        return .pass("incident report \(path)")
    }
}
