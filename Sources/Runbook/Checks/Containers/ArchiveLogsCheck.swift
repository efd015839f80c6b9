import DockerClient
import Foundation
import YAMLParser

/// `type: archive_logs`: every container's log (or its last `tail` lines) into `directory`.
public struct ArchiveLogsCheck: CheckType {
    public var directory: String
    public var tail: Int?

    public static let typeName = "archive_logs"
    public static let keys = ["directory", "tail"]

    public static func decode(from reader: CheckReader) -> ArchiveLogsCheck? {
        ArchiveLogsCheck(directory: reader.optional("directory", as: String.self) ?? "logs", tail: reader.optional("tail", as: Int.self))
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.archiveLogs(directory: directory, tail: tail)
    }
}

extension CheckContext {
    fileprivate func archiveLogs(directory: String, tail: Int?) async throws -> CheckOutcome {
        let engine = try DockerEngine(environment: environment, project: runbook.project)
        let containers = try await engine.containers()
        guard !containers.isEmpty else { return .pass("no containers in project '\(runbook.project)': nothing to archive") }
        let folder = try privateOutputFolder(directory + "/" + ReportsDirectory.stampFormatter.string(from: Date()))
        var lines = 0
        for container in containers {
            let log = try await engine.logs(of: container, tail: tail)
            lines += log.count
            try writeOperatorText(log.joined(separator: "\n") + "\n", to: "\(folder)/\(container.service).log")
        }
        return .pass("\(containers.count) logs, \(lines) lines in \(folder)", figures: ["log_lines": Double(lines)])
    }
}
