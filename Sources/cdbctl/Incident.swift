import ArgumentParser
import Foundation
import Runbook
import YAMLParser

/// `cdbctl incident <kind> [--service NAME]`: one playbook of seed §5.
struct Incident: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an incident playbook (seed §5): gather evidence, act, verify, escalate.",
        discussion: """
        Kinds: \(IncidentKind.allNames.joined(separator: ", ")). Evidence goes to <reports-dir>/incidents/<id>/; every incident is kept in <reports-dir>/incidents/history.jsonl, and a second one of the same kind for the same service within the playbook's window escalates to the emergency stop (seed §7.2).

        Exit 0 when resolved, 1 when not (or escalated), 2 on a usage error, 3 when another run holds the lock.
        """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The playbook.")
    var kind: String

    @Option(help: "The service it concerns (default: the one in trouble, or the playbook's own target).")
    var service: String?

    @Flag(help: "Allow the playbook's destructive steps (restoring a backup, removing a volume); they also need a backup younger than settings.destructive_backup_max_age.")
    var yes = false

    @Flag(help: "database-restore: remove PostgreSQL's container and volume first and let compose create them anew (seed §5.4's last resort).")
    var recreateVolume = false

    func run() async throws {
        guard let incidentKind = IncidentKind(rawValue: kind) else {
            var message = "unknown incident '\(kind)'; one of: \(IncidentKind.allNames.joined(separator: ", "))"
            if let suggestion = closestMatch(to: kind, among: IncidentKind.allNames) { message += " (did you mean '\(suggestion)'?)" }
            UsageFailure(message).exit()
        }
        var session = try await options.session(command: "incident \(kind)")
        session.executor.command.confirmedDestructive = yes
        do {
            let outcome = try await session.runPlaybook(incidentKind, service: service, options: recreateVolume ? ["recreate-volume"] : [])
            session.finish(outcome, exitFailure: !outcome.verdict.succeeded)
        } catch {
            session.lock.release()
            UsageFailure("\(error)").exit()
        }
    }
}

extension PhaseSession {
    /// Runs one playbook; an escalation runs the emergency stop right after. Returns the record to finish with.
    func runPlaybook(_ kind: IncidentKind, service requested: String?, options: Set<String> = []) async throws -> PhaseRecord {
        let playbookSteps = definition.phase(.incidents).steps.filter { $0.playbook == kind.rawValue }
        guard !playbookSteps.isEmpty else {
            throw UsageFailure("runbook.yaml has no steps for playbook '\(kind.rawValue)' in phase incidents")
        }
        for option in options where !playbookSteps.contains(where: { $0.option == option }) {
            throw UsageFailure("--\(option): playbook '\(kind.rawValue)' has no step that uses it")
        }
        // Steps of an option not given are left out, and so are the needs on them.
        let omitted = Set(playbookSteps.filter { step in step.option.map { !options.contains($0) } ?? false }.map(\.id))
        let steps = playbookSteps.filter { !omitted.contains($0.id) }.map { step in
            var kept = step
            kept.needs.removeAll(where: omitted.contains)
            return kept
        }
        // Refused before anything runs, not half-way through: a destructive playbook either may run whole or not at all.
        if let refusal = steps.lazy.compactMap(executor.destructiveRefusal).first {
            throw UsageFailure(refusal)
        }
        let service: String
        if let named = requested ?? IncidentTarget.fixedService(for: kind) {
            service = named
        } else {
            let containers: [ContainerState]
            do {
                containers = try await DockerEngine(environment: executor.environment, project: definition.settings.project).containers()
            } catch {
                throw UsageFailure("cannot tell which service is in trouble (\(error)); name it with --service")
            }
            guard let troubled = IncidentTarget.troubled(containers, for: kind) else {
                throw UsageFailure("no container of project '\(definition.settings.project)' is in trouble; name one with --service")
            }
            service = troubled.service
        }
        let now = Date()
        let id = "\(kind.rawValue)-\(service)-\(ReportsDirectory.stampFormatter.string(from: now))"
        let history = IncidentHistory(reportsDirectory: reports.root.path)
        let entry = IncidentEntry(id: id, kind: kind.rawValue, service: service, time: now, outcome: nil)
        try? history.append(entry)
        var playbook = self
        playbook.executor.command.incident = IncidentContext(entry: entry, directory: reports.root.appendingPathComponent("incidents/\(id)").path, history: history)
        var phase = definition.phase(.incidents)
        phase.steps = steps.map { step in
            var concrete = step
            concrete.check = step.check.replacingService(with: service)
            return concrete
        }
        playbook.definition.phases[.incidents] = phase
        var record = await playbook.runPhase(.incidents) { results in
            let escalate = results.contains { $0.figures["escalate"] == 1 }
            let verdict: Verdict = escalate ? .escalated : PhaseVerdict.verdict(results) == .pass ? .resolved : .unresolved
            return (verdict, ["incident \(id): \(kind.rawValue) of \(service)", "evidence: \(playbook.executor.command.incident!.directory)"])
        }
        if record.verdict == .escalated {
            // Seed §5.1: a second crash stops the paper run (§7.2).
            let reason = "escalated from incident \(id): " + (record.results.first { $0.figures["escalate"] == 1 }?.detail ?? "")
            var stop = playbook
            stop.executor.command.stopReason = reason
            stop.definition.phases[.stop]?.steps.removeAll { $0.when == .planned }
            let stopRecord = await stop.runPhase(.stop) { results in (PhaseVerdict.verdict(results, success: .stopped), []) }
            record.results += stopRecord.results
            record.notes.append("emergency stop: \(stopRecord.verdict) (\(reason))")
        }
        try? history.append(IncidentEntry(id: id, kind: kind.rawValue, service: service, time: Date(), outcome: record.verdict.rawValue))
        return record
    }
}
