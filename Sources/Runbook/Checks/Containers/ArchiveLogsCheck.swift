import DockerClient
import Foundation
import Primitives
import YAMLParser

/// `type: archive_logs`: every container's log (or its last `tail` lines) into `directory/<UTC stamp>/`. With
/// `every`, an archive younger than that is kept and no new one taken (the monitor's daily log archive).
public struct ArchiveLogsCheck: CheckType {
    public var directory: String
    public var tail: Int?
    public var every: Duration?

    public static let typeName = "archive_logs"
    public static let keys = ["directory", "tail", "every"]

    public static func decode(from reader: CheckReader) -> ArchiveLogsCheck? {
        ArchiveLogsCheck(directory: reader.optional("directory", as: String.self) ?? "logs", tail: reader.optional("tail", as: Int.self),
                         every: reader.optional("every", as: Duration.self))
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        if let every, let newest = context.newestLogArchive(in: directory), Date().timeIntervalSince(newest.taken) <= every.seconds {
            let age = Date().timeIntervalSince(newest.taken)
            return .pass("\(newest.path) is \(Int(age / 3600)) h \(Int(age / 60) % 60) min old (a new one every \(every.secondsText))")
        }
        return try await context.archiveLogs(directory: directory, tail: tail)
    }
}

extension CheckContext {
    /// The newest `<UTC stamp>` folder of `directory`, by the time in its name.
    fileprivate func newestLogArchive(in directory: String) -> (path: String, taken: Date)? {
        let folder = outputFolder(directory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { name in ReportsDirectory.stampFormatter.date(from: name).map { (folder + "/" + name, $0) } }
            .max { $0.1 < $1.1 }
    }

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
