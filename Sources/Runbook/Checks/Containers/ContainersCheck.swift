import DockerClient
import Foundation
import YAMLParser

/// `type: containers`: the stack's containers running, healthy, rarely restarted, within their memory.
public struct ContainersCheck: CheckType {
    /// Compose service names; all nine when empty.
    public var services: [String]
    /// Services that may be absent (Grafana without a registry): reported "not deployed", never passed.
    public var optional: [String]
    public var requireHealthy: Bool
    /// False for checks of one aspect (memory) that leave a stopped container to the crash check.
    public var requireRunning: Bool
    public var maxRestarts: Int?
    /// Restarts allowed since the previous monitor cycle; nil: not compared. Docker's count grows only when its
    /// restart policy brings a crashed container back (`docker restart` and a recreated container reset it), so
    /// a rise between two cycles is a crash that Docker already repaired, which "running and healthy" never shows.
    public var maxNewRestarts: Int?
    public var memoryMaxPercent: Double?

    public static let typeName = "containers"
    public static let keys = ["services", "optional", "healthy", "running", "max_restarts", "max_new_restarts", "memory_max_pct"]

    public static func decode(from reader: CheckReader) -> ContainersCheck? {
        for key in ["max_restarts", "max_new_restarts"] {
            if let count = reader.optional(key, as: Int.self), count < 0 {
                reader.error("\(reader.what).\(key): expected a count of 0 or more, got \(count)", at: reader[key]!.mark)
            }
        }
        return ContainersCheck(
            services: reader.strings("services") ?? [], optional: reader.strings("optional") ?? [],
            requireHealthy: reader.optional("healthy", as: Bool.self) ?? true,
            requireRunning: reader.optional("running", as: Bool.self) ?? true,
            maxRestarts: reader.optional("max_restarts", as: Int.self),
            maxNewRestarts: reader.optional("max_new_restarts", as: Int.self),
            memoryMaxPercent: reader.optional("memory_max_pct", as: Double.self))
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.containers(self)
    }

    public func replacingService(with service: String) -> ContainersCheck {
        var copy = self
        copy.services = services.replacingService(with: service)
        return copy
    }
}

extension CheckContext {
    fileprivate func containers(_ check: ContainersCheck) async throws -> CheckOutcome {
        let engine = try DockerEngine(environment: environment, project: runbook.project)
        let all = try await engine.containers()
        let wanted = check.services.isEmpty ? stackServices : check.services
        var problems: [String] = []
        var notDeployed: [String] = []
        var healthy = 0
        var held: [String] = []
        var figures: [String: Double] = [:]
        // The same step of the previous monitor cycle: its restart counts are the baseline.
        let previous = command.previousCycle.flatMap { cycle in cycle.results.first { $0.id == step.id }.map { (cycle.startedAt, $0.figures) } }
        for service in wanted {
            guard let container = all.first(where: { $0.service == service || $0.name == service }) else {
                if check.optional.contains(service) { notDeployed.append(service) } else { problems.append("\(service): no container in project '\(runbook.project)'") }
                continue
            }
            figures["restarts.\(service)"] = Double(container.restartCount)
            var issues: [String] = []
            if container.state != "running", let hold = hold(on: service) {
                held.append("\(service) \(Self.heldText(hold))")
                continue
            }
            if container.state != "running" {
                guard check.requireRunning else { continue }
                issues.append("is \(container.state)" + (container.state == "exited" ? " (exit code \(container.exitCode))" : ""))
            } else if check.requireHealthy, container.health != "healthy" {
                issues.append(container.health.map { "is \($0)" } ?? "has no healthcheck")
            }
            if let maxRestarts = check.maxRestarts, container.restartCount > maxRestarts {
                issues.append("restarted \(container.restartCount) times (allowed \(maxRestarts))")
            }
            if let allowed = check.maxNewRestarts, let (since, before) = previous, let counted = before["restarts.\(service)"] {
                let crashes = container.restartCount - Int(counted)
                if crashes > allowed {
                    issues.append("crashed and was restarted by Docker \(crashes) time\(crashes == 1 ? "" : "s") since the previous cycle "
                        + "(\(ReportsDirectory.stampFormatter.string(from: since)); allowed \(allowed)): see its logs (cdbctl incident container-crash --service \(service))")
                }
            }
            if let limit = check.memoryMaxPercent, container.state == "running" {
                let memory = try await engine.memory(of: container)
                if memory.limit > 0 {
                    let percent = memory.used / memory.limit * 100
                    figures["memory_pct.\(service)"] = percent
                    if percent > limit { issues.append(String(format: "uses %.0f%% of its memory limit (allowed %.0f%%)", percent, limit)) }
                }
            }
            if issues.isEmpty { healthy += 1 } else { problems.append("\(service) " + issues.joined(separator: ", ")) }
        }
        if problems.isEmpty, healthy == 0, !held.isEmpty { return .skip(held.joined(separator: "; ")) }
        let deployed = wanted.count - notDeployed.count - held.count
        var summary = "\(healthy)/\(deployed) \(check.requireHealthy ? "healthy" : "running")"
        if !held.isEmpty { summary += "; \(held.joined(separator: "; "))" }
        if !notDeployed.isEmpty { summary += "; not deployed: \(notDeployed.joined(separator: ", "))" }
        return problems.isEmpty ? .pass(summary, figures: figures) : .fail(summary + ": " + problems.joined(separator: "; "), figures: figures)
    }
}
