import DockerClient
import Foundation

/// One incident playbook of seed §5 run for one service: evidence, action, verification; when its escalation
/// step finds the same incident again within its window, the emergency stop (§7.2) runs right after.
public struct IncidentPlaybook: Sendable {
    public var kind: IncidentKind
    /// The service it concerns; nil: the playbook's own target, else the container in trouble.
    public var service: String?
    /// Step options given (`recreate-volume`): steps of an option not given are left out.
    public var options: Set<String>

    public init(kind: IncidentKind, service: String? = nil, options: Set<String> = []) {
        self.kind = kind
        self.service = service
        self.options = options
    }

    /// The incidents record (RESOLVED, UNRESOLVED or ESCALATED), with the emergency stop's steps appended when
    /// it escalated; the incident history gets an entry before and its outcome after.
    public func run(with runner: PhaseRunner) async throws(CommandRefusal) -> PhaseRecord {
        let definition = runner.definition
        let playbookSteps = definition.phase(.incidents).steps.filter { $0.playbook == kind.rawValue }
        guard !playbookSteps.isEmpty else {
            throw CommandRefusal("runbook.yaml has no steps for playbook '\(kind.rawValue)' in phase incidents")
        }
        for option in options where !playbookSteps.contains(where: { $0.option == option }) {
            throw CommandRefusal("--\(option): playbook '\(kind.rawValue)' has no step that uses it")
        }
        // Steps of an option not given are left out, and so are the needs on them.
        let omitted = Set(playbookSteps.filter { step in step.option.map { !options.contains($0) } ?? false }.map(\.id))
        let steps = playbookSteps.filter { !omitted.contains($0.id) }.map { step in
            var kept = step
            kept.needs.removeAll(where: omitted.contains)
            return kept
        }
        // Refused before anything runs, not half-way through: a destructive playbook either may run whole or not at all.
        if let refusal = steps.lazy.compactMap(runner.executor.destructiveRefusal).first {
            throw CommandRefusal(refusal)
        }
        let service = try await target(runner)
        let now = Date()
        let id = "\(kind.rawValue)-\(service)-\(ReportsDirectory.stampFormatter.string(from: now))"
        let history = IncidentHistory(reportsDirectory: runner.reports.root.path)
        let entry = IncidentEntry(id: id, kind: kind.rawValue, service: service, time: now, outcome: nil)
        try? history.append(entry)
        var playbook = runner
        let incident = IncidentContext(entry: entry, directory: runner.reports.root.appendingPathComponent("incidents/\(id)").path, history: history)
        playbook.executor.command.incident = incident
        var phase = definition.phase(.incidents)
        phase.steps = steps.map { step in
            var concrete = step
            concrete.check = step.check.replacingService(with: service)
            return concrete
        }
        playbook.definition.phases[.incidents] = phase
        // The escalation step's failure is what escalates; which step that is, its check type says.
        let escalationSteps = Set(steps.filter { $0.check is EscalationCheck }.map(\.id))
        func escalation(_ results: [StepResult]) -> StepResult? {
            results.first { escalationSteps.contains($0.id) && $0.status == .fail }
        }
        var record = try await playbook.run(.incidents) { results in
            let verdict: Verdict = escalation(results) != nil ? .escalated : PhaseVerdict.verdict(results) == .pass ? .resolved : .unresolved
            return (verdict, ["incident \(id): \(kind.rawValue) of \(service)", "evidence: \(incident.directory)"])
        }
        if let escalated = escalation(record.results) {
            // Seed §5.1: a second crash stops the paper run (§7.2).
            let reason = "escalated from incident \(id): " + escalated.detail
            var stop = playbook
            await StopPlan(mode: .emergency).prepare(&stop.definition, &stop.executor, reason: reason)
            let stopRecord = try await stop.run(.stop) { results in (PhaseVerdict.verdict(results, success: .stopped), []) }
            record.results += stopRecord.results
            record.notes.append("emergency stop: \(stopRecord.verdict) (\(reason))")
        }
        try? history.append(IncidentEntry(id: id, kind: kind.rawValue, service: service, time: Date(), outcome: record.verdict.rawValue))
        return record
    }

    private func target(_ runner: PhaseRunner) async throws(CommandRefusal) -> String {
        if let named = service ?? IncidentTarget.fixedService(for: kind) { return named }
        let project = runner.definition.settings.project
        let containers: [ContainerState]
        do {
            containers = try await DockerEngine(environment: runner.executor.environment, project: project).containers()
        } catch {
            throw CommandRefusal("cannot tell which service is in trouble (\(error)); name it with --service")
        }
        guard let troubled = IncidentTarget.troubled(containers, for: kind) else {
            throw CommandRefusal("no container of project '\(project)' is in trouble; name one with --service")
        }
        return troubled.service
    }
}
