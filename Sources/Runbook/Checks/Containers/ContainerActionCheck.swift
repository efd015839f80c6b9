import DockerClient
import Foundation
import YAMLParser

/// `type: container_action`: stop, start, restart, pause or unpause containers through the Engine API (idempotent).
public struct ContainerActionCheck: CheckType {
    public var action: DockerEngine.Action
    public var services: [String]

    public static let typeName = "container_action"
    public static let keys = ["action", "services"]

    public static func decode(from reader: CheckReader) -> ContainerActionCheck? {
        guard let text = reader.required("action", as: String.self) else { return nil }
        guard let action = DockerEngine.Action(rawValue: text) else {
            var message = "\(reader.what).action: unknown action '\(text)'"
            if let suggestion = closestMatch(to: text, among: DockerEngine.Action.allCases.map(\.rawValue)) { message += " (did you mean '\(suggestion)'?)" }
            reader.error(message, at: reader["action"]!.mark)
            return nil
        }
        guard let services = reader.strings("services", required: true) else { return nil }
        return ContainerActionCheck(action: action, services: services)
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.containerAction(action, services: services)
    }

    public func replacingService(with service: String) -> ContainerActionCheck {
        ContainerActionCheck(action: action, services: services.replacingService(with: service))
    }
}

extension CheckContext {
    fileprivate func containerAction(_ action: DockerEngine.Action, services: [String]) async throws -> CheckOutcome {
        let engine = try DockerEngine(environment: environment, project: runbook.project)
        let containers = try await engine.containers()
        var done: [String] = []
        var problems: [String] = []
        for service in services {
            guard let container = containers.first(where: { $0.service == service || $0.name == service }) else {
                // Stopping what is not there is done; starting it is not.
                if action == .stop || action == .pause { done.append("\(service) not present") } else { problems.append("\(service): no container in project '\(runbook.project)'") }
                continue
            }
            // The hold is written before the stop, so a crash in between never leaves an unexplained stopped container.
            // A hold that cannot be written never keeps the stop from happening (the breaker, the emergency stop):
            // the step says so, and the monitor then sees an unexplained stop.
            if action == .stop || action == .pause, let problem = recordHold(on: service) { done.append(problem) }
            let changed = try await engine.perform(action, on: container)
            if action == .start || action == .restart || action == .unpause, let problem = releaseHold(on: service) { done.append(problem) }
            done.append(changed ? "\(action.rawValue) \(service)" : "\(service) already \(action == .stop ? "stopped" : action == .pause ? "paused" : "running")")
        }
        return problems.isEmpty ? .pass(done.joined(separator: ", ")) : .fail((problems + done).joined(separator: "; "))
    }
}

extension CheckContext {
    /// Who holds a container this step stops: the playbook running, else the command.
    private var holder: (by: String, reason: String) {
        if let incident = command.incident { return ("playbook \(incident.entry.kind)", "incident \(incident.entry.id), step \(step.id)") }
        return (command.actor, command.stopReason.map { "\(step.id): \($0)" } ?? step.id)
    }

    /// Records a stop on purpose in the run (when there is one), so the monitor never takes it for a crash; returns
    /// why it could not, if so.
    fileprivate func recordHold(on service: String) -> String? {
        let journal = RunJournal(reportsDirectory: reportsDirectory)
        guard let run = journal.current(), !run.status.isOver else { return nil }
        let (by, reason) = holder
        do {
            try journal.save(RunTransitions.held(run, ContainerHold(service: service, by: by, reason: reason, since: Date(),
                                                                    incident: command.incident?.entry.id)))
            return nil
        } catch {
            return "warning: the hold on \(service) not recorded in \(journal.path) (\(error)): the monitor will take the stop for a crash"
        }
    }

    fileprivate func releaseHold(on service: String) -> String? {
        let journal = RunJournal(reportsDirectory: reportsDirectory)
        guard let run = journal.current(), run.hold(for: service) != nil else { return nil }
        do {
            try journal.save(RunTransitions.released(run, service: service, by: holder.by, at: Date()))
            return nil
        } catch {
            return "warning: the hold on \(service) not ended in \(journal.path) (\(error)): cdbctl release \(service) ends it"
        }
    }
}
