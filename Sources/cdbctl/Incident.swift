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

    @Argument(help: "The playbook.", transform: { try choice($0, noun: "incident") })
    var kind: IncidentKind

    @Option(help: "The service it concerns (default: the one in trouble, or the playbook's own target).")
    var service: String?

    @Flag(help: "Allow the playbook's destructive steps (restoring a backup, removing a volume); they also need a backup younger than settings.destructive_backup_max_age.")
    var yes = false

    @Flag(help: "database-restore: remove PostgreSQL's container and volume first and let compose create them anew (seed §5.4's last resort).")
    var recreateVolume = false

    func run() async throws {
        var session = try await options.session(command: "incident \(kind.rawValue)")
        session.executor.command.confirmedDestructive = yes
        let playbook = IncidentPlaybook(kind: kind, service: service, options: recreateVolume ? ["recreate-volume"] : [])
        let outcome: PhaseRecord
        do {
            outcome = try await session.withRunner { try await playbook.run(with: $0) }
        } catch {
            session.lock.release()
            throw CommandFailure.usage("\(error)")
        }
        try await session.finish(outcome, failed: !outcome.verdict.succeeded)
    }
}
