import ArgumentParser
import DockerClient
import Foundation
import Runbook

/// `cdbctl maintenance start|end --reason "…"`: the operator works on the stack; cycles raise nothing meanwhile.
struct Maintenance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put the run into maintenance (cycles record but raise no alarm and remediate nothing) or end it.",
        subcommands: [Begin.self, End.self])

    struct Begin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "start", abstract: "Begin maintenance of the live run.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "What is being done (kept in the run's history).") var reason: String

        func run() async throws {
            try RunRecordsCommand(options: options, command: "maintenance start").apply("maintenance start") {
                try RunTransitions.maintenanceStarted($0, reason: reason, at: Date())
            }
        }
    }

    struct End: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "end", abstract: "End maintenance: the next cycle watches again.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "What was done.") var reason = "maintenance ended"

        func run() async throws {
            try RunRecordsCommand(options: options, command: "maintenance end").apply("maintenance end") {
                try RunTransitions.maintenanceEnded($0, reason: reason, at: Date())
            }
        }
    }
}

/// `cdbctl hold SERVICE --reason "…"`: a deliberate stop the monitor respects; `cdbctl release SERVICE` ends it.
struct Hold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop a container on purpose: the monitor reports it held, never crashed, and --remediate leaves it stopped.",
        discussion: "Holding cdb_core, cdb_risk or cdb_execution pauses the run's trading until `cdbctl release`.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The compose service, e.g. cdb_execution.") var service: String
    @Option(help: "Why (kept in the run's history and shown by cdbctl status).") var reason: String

    func run() async throws {
        let records = RunRecordsCommand(options: options, command: "hold \(service)")
        try await records.withContainer(service, .stop) { run in
            // The operator's decision replaces a playbook's hold (one a failed playbook left behind, say).
            var replaced = run
            replaced.holds.removeAll { $0.service == service }
            return RunTransitions.held(replaced, ContainerHold(service: service, by: "operator", reason: reason, since: Date()))
        }
    }
}

struct Release: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a held container again and end its hold.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The compose service, e.g. cdb_execution.") var service: String

    func run() async throws {
        let records = RunRecordsCommand(options: options, command: "release \(service)")
        try await records.withContainer(service, .start) { run in
            RunTransitions.released(run, service: service, by: "operator", at: Date())
        }
    }
}

/// A command that changes the run's record under the lock, without running a phase.
struct RunRecordsCommand {
    var options: GlobalOptions
    var command: String

    var journal: RunJournal { RunJournal(reportsDirectory: options.reportsDir) }
    var reports: ReportsDirectory { ReportsDirectory(path: options.reportsDir) }

    func apply(_ action: String, _ transition: (RunRecord?) throws -> RunRecord) throws {
        let lock = try options.lockForRecords(command: command)
        defer { lock.release() }
        let run: RunRecord
        do {
            run = try journal.update(transition)
        } catch let refused as RunTransitionRefused {
            reports.audit(command: command, action: action, outcome: "refused", detail: refused.message)
            throw CommandFailure.usage(refused.message)
        } catch {
            throw CommandFailure.failed("\(journal.path) not written: \(error)")
        }
        reports.audit(command: command, action: action, outcome: run.status.rawValue, detail: run.id)
        print("run \(run.id): \(run.status.rawValue)")
    }

    /// Records the hold before a stop (a crash in between never leaves an unexplained stopped container) and the
    /// release after a start.
    func withContainer(_ service: String, _ action: DockerEngine.Action, _ transition: (RunRecord) -> RunRecord) async throws {
        let definition = try options.loadRunbook()
        let lock = try options.lockForRecords(command: command)
        defer { lock.release() }
        let current: RunRecord?
        do { current = try journal.load() } catch { throw CommandFailure.failed("\(error): repair or move it aside first") }
        guard let run = current, run.status.isLive else {
            throw CommandFailure.usage("no live run on record (\(current.map { "run is \($0.status.rawValue)" } ?? "none")): use scripts/stack.sh for the stack outside a run")
        }
        do {
            let engine = try DockerEngine(environment: try options.environment(), project: definition.settings.project)
            guard let container = try await engine.containers().first(where: { $0.service == service }) else {
                throw CommandFailure.usage("\(service): no container in project '\(definition.settings.project)'")
            }
            if action == .stop { try journal.save(transition(run)) }
            do {
                _ = try await engine.perform(action, on: container)
            } catch {
                // A stop that did not happen holds nothing.
                if action == .stop { try? journal.save(run) }
                throw error
            }
            if action != .stop { try journal.save(transition(run)) }
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            reports.audit(command: command, action: action.rawValue, outcome: "failed", detail: "\(error)")
            throw CommandFailure.failed("\(action.rawValue) \(service): \(error)")
        }
        let now = journal.current() ?? run
        reports.audit(command: command, action: action.rawValue, outcome: now.status.rawValue, detail: service)
        print("\(service): \(action == .stop ? "stopped and held" : "started, hold ended"); run \(now.id): \(now.status.rawValue)")
    }
}
