import DockerClient
import Foundation
import Primitives
import YAMLParser

/// `type: logs`: no line matching `patterns` in the services' logs of the last `window`.
public struct LogsCheck: CheckType {
    public var services: [String]
    public var window: Duration
    public var patterns: [String]

    public static let typeName = "logs"
    public static let keys = ["services", "since", "patterns"]

    public static func decode(from reader: CheckReader) -> LogsCheck? {
        LogsCheck(services: reader.strings("services") ?? [],
                  window: reader.optional("since", as: Duration.self) ?? .seconds(600),
                  patterns: reader.strings("patterns") ?? ["ERROR", "CRITICAL"])
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.logs(services: services, window: window, patterns: patterns)
    }

    public func replacingService(with service: String) -> LogsCheck {
        LogsCheck(services: services.replacingService(with: service), window: window, patterns: patterns)
    }
}

extension CheckContext {
    fileprivate func logs(services: [String], window: Duration, patterns: [String]) async throws -> CheckOutcome {
        let engine = try DockerEngine(environment: environment, project: runbook.project)
        let containers = try await engine.containers()
        let since = Date().addingTimeInterval(-window.seconds)
        var hits: [String] = []
        var checked: [String] = []
        for service in services.isEmpty ? stackServices : services {
            guard let container = containers.first(where: { $0.service == service || $0.name == service }) else {
                // A service named in the runbook whose logs cannot be read is not a clean log.
                if !services.isEmpty { hits.append("\(service): no container in project '\(runbook.project)', its log cannot be checked") }
                continue
            }
            checked.append(service)
            let lines = try await engine.logs(of: container, since: since)
            let matching = lines.filter { line in patterns.contains { line.contains($0) } }
            if let first = matching.first { hits.append("\(service): \(matching.count) lines, first: \(first.prefix(160))") }
        }
        guard !checked.isEmpty else { return .fail("none of \(services.joined(separator: ", ")) has a container in project '\(runbook.project)'") }
        return hits.isEmpty ? .pass("no \(patterns.joined(separator: "/")) in the last \(window.secondsText) of \(checked.joined(separator: ", "))")
            : .fail(hits.joined(separator: "; "))
    }
}
