import DockerClient
import Foundation
import YAMLParser

/// `type: remove_volumes`: containers and their named volumes removed (seed §5.4's last resort); compose creates
/// them anew. Destructive.
public struct RemoveVolumesCheck: CheckType {
    public var services: [String]

    public static let typeName = "remove_volumes"
    public static let keys = ["services"]

    public static func decode(from reader: CheckReader) -> RemoveVolumesCheck? {
        reader.strings("services", required: true).map { RemoveVolumesCheck(services: $0) }
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.removeVolumes(services: services)
    }
}

extension CheckContext {
    fileprivate func removeVolumes(services: [String]) async throws -> CheckOutcome {
        let engine = try DockerEngine(environment: environment, project: runbook.project)
        let containers = try await engine.containers()
        var done: [String] = []
        for service in services {
            guard let container = containers.first(where: { $0.service == service }) else {
                done.append("\(service): no container (already removed)")
                continue
            }
            let volumes = try await engine.removeWithVolumes(container)
            done.append("\(container.name) removed" + (volumes.isEmpty ? "" : " with volume \(volumes.joined(separator: ", "))"))
        }
        return .pass(done.joined(separator: "; "))
    }
}
