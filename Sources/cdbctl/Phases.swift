import ArgumentParser
import Foundation
import Primitives
import Runbook
import YAMLParser

/// `cdbctl validate`: every problem in runbook.yaml, located, with suggestions; touches nothing.
struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check runbook.yaml and the checks/ files it uses; report every error as file:line:col.",
        discussion: "Exit 0 when valid, 2 otherwise.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let definition = options.loadRunbook()
        let counts = PhaseName.allCases.map { "\($0.rawValue) \(definition.phase($0).steps.count)" }
        print("\(definition.file): valid — \(definition.allSteps.count) steps (\(counts.joined(separator: ", ")))")
    }
}

/// `cdbctl plan <phase>`: what would run, in which order, with which limits; touches nothing.
struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print what a phase would run, and touch nothing.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "One of: \(PhaseName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var phase: String

    func run() async throws {
        guard let name = PhaseName(rawValue: phase) else {
            UsageFailure("unknown phase '\(phase)'; phases: \(PhaseName.allCases.map(\.rawValue).joined(separator: ", "))").exit()
        }
        let definition = options.loadRunbook()
        let steps = definition.phase(name).steps
        if options.json {
            let rows = steps.map { PlannedStep(step: $0) }
            print(TableOutput.json(rows))
            return
        }
        print("phase \(name.rawValue): \(steps.count) steps, up to \(definition.phase(name).concurrency) at once")
        print(TableOutput.table(
            headers: ["STEP", "SEED", "SEVERITY", "CHECK", "TIMEOUT", "RETRIES", "NEEDS", "TITLE"],
            rows: steps.map { step in
                [step.id, step.seed, step.severity.rawValue, step.check.typeName,
                 step.timeout.secondsText + (step.holdFor.map { " for \($0.secondsText)" } ?? ""),
                 "\(step.retries)", step.needs.joined(separator: ","), PlannedStep.markers(step) + step.title]
            }, colour: false))
    }
}

struct PlannedStep: Encodable {
    var id, title, seed, severity, check: String
    var timeoutSeconds: Double
    var retries: Int
    var needs: [String]
    var holdForSeconds: Double?
    var destructive: Bool
    var option: String?

    /// What the table shows before a title: the step destroys data, or runs only with a flag.
    static func markers(_ step: RunbookStep) -> String {
        (step.destructive ? "[destructive: needs --yes] " : "") + (step.option.map { "[only with --\($0)] " } ?? "")
    }

    init(step: RunbookStep) {
        id = step.id; title = step.title; seed = step.seed; severity = step.severity.rawValue; check = step.check.typeName
        timeoutSeconds = step.timeout.seconds; retries = step.retries; needs = step.needs
        holdForSeconds = step.holdFor.map(\.seconds)
        destructive = step.destructive; option = step.option
    }
}

/// `cdbctl preflight`: seed §2.1–2.4.
struct Preflight: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the preflight checklist (seed §2.1–2.4); the results feed `cdbctl go`.",
        discussion: "Exit 0 when every critical item holds, 1 otherwise.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let session = try await options.session(command: "preflight")
        let record = await session.runPhase(.preflight) { results in (PhaseVerdict.verdict(results), []) }
        session.finish(record, exitFailure: record.verdict != "PASS")
    }
}

/// `cdbctl go`: seed §2.5, the recorded decision.
struct Go: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decide GO / NO-GO (seed §2.5) from the last preflight plus fresh re-checks, and record it.",
        discussion: "Exit 0 on GO, 1 on NO-GO (every failed item is listed with its reason).")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let session = try await options.session(command: "go")
        let preflight = session.reports.lastRecord(of: .preflight)
        let maxAge = session.definition.settings.preflightMaxAge
        var decision: GoDecision?
        let record = await session.runPhase(.go) { results in
            let made = GoDecision(preflight: preflight, fresh: results, maxAge: maxAge)
            decision = made
            let judged = preflight.map { "judged preflight of \(ISO8601DateFormatter().string(from: $0.finishedAt)) (\($0.verdict))" }
                ?? "no preflight on record"
            return (made.verdict, [judged] + made.reasons.map { "NO-GO: \($0)" } + made.warnings.map { "warning: \($0)" })
        }
        if !options.json, let decision, !decision.go {
            print("\nNO-GO because:")
            decision.reasons.forEach { print("  - \($0)") }
        }
        session.finish(record, exitFailure: decision?.go != true)
    }
}

/// `cdbctl start`: seed §3.
struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the run (seed §3): compose up, wait for healthy, event-flow probe, stabilisation, first data.",
        discussion: "Refuses without a GO on record unless --force. Exit 0 when the system is operational, 1 otherwise.")

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Start without a recorded GO decision.")
    var force = false

    func run() async throws {
        let session = try await options.session(command: "start")
        if !force {
            guard let go = session.reports.lastRecord(of: .go), go.verdict == "GO" else {
                session.reports.audit(command: "start", action: "refuse", outcome: "no GO on record")
                FileHandle.standardError.write(Data("cdbctl: no GO decision on record: run `cdbctl go` (or pass --force)\n".utf8))
                throw ExitCode(1)
            }
        }
        if let envFile = options.envFilePath {
            do {
                let copy = try session.reports.backUpEnvFile(envFile, phase: .start)
                session.reports.audit(command: "start", action: "env backup", outcome: "kept", detail: copy)
            } catch {
                session.reports.audit(command: "start", action: "env backup", outcome: "failed", detail: "\(error)")
                FileHandle.standardError.write(Data("cdbctl: cannot keep a copy of \(envFile) under \(session.reports.root.path)/start: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        let record = await session.runPhase(.start) { results in
            let verdict = PhaseVerdict.verdict(results) == "PASS" ? "OPERATIONAL" : "FAIL"
            return (verdict, verdict == "OPERATIONAL" ? ["paper run started: \(ISO8601DateFormatter().string(from: Date()))"] : [])
        }
        session.finish(record, exitFailure: record.verdict != "OPERATIONAL")
    }
}

/// `cdbctl monitor`: one cycle of seed §4, for cron.
struct Monitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One monitoring cycle (seed §4): containers, health, risk figures, data growth, the §4.2 alarm table.",
        discussion: """
        Meant for cron, every 4 hours (services/cdbctl.crontab):
          0 */4 * * *  cd /path/to/project && .build/release/cdbctl monitor >> reports/monitor.log 2>&1

        Exit 0 when no alarm is raised, 1 on any alarm (WARNING or CRITICAL), 3 when another run holds the lock.
        """)

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Hand each alarm to its incident playbook (seed §4.2's action column) right after the cycle.")
    var remediate = false

    func run() async throws {
        let session = try await options.session(command: remediate ? "monitor --remediate" : "monitor")
        var alarms: [Alarm] = []
        var record = await session.runPhase(.monitor) { results in
            alarms = AlarmTable.alarms(from: results)
            return (AlarmTable.verdict(alarms), alarms.map { "ALARM \($0.severity.rawValue.uppercased()): \($0.message)" + ($0.playbook.map { " → cdbctl incident \($0)" } ?? "") })
        }
        record.alarms = alarms
        if remediate {
            // Critical alarms first; each playbook once per cycle even when several alarms call for it.
            var seen: Set<String> = []
            for alarm in alarms.sorted(by: { $0.severity == .critical && $1.severity != .critical }) {
                guard let name = alarm.playbook, let kind = IncidentKind(rawValue: name), seen.insert(name).inserted else { continue }
                do {
                    let playbook = try await session.runPlaybook(kind, service: nil)
                    record.notes.append("remediation \(name): \(playbook.verdict) (\(playbook.notes.first ?? ""))")
                    record.results += playbook.results
                } catch {
                    record.notes.append("remediation \(name): not run: \(error)")
                }
            }
        }
        session.finish(record, exitFailure: !alarms.isEmpty)
    }
}

/// `cdbctl stop` (seed §7.1) and `cdbctl stop --emergency --reason "…"` (§7.2).
struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "End the run: planned (§7.1: stop execution, wait for positions, backup, archive logs, down) or --emergency (§7.2).",
        discussion: "Volumes are always kept. Safe to re-run after a partial failure: every step checks what is already done. Exit 0 when stopped, 1 when a step failed.")

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Stop every trading service at once and write an incident report (seed §7.2).")
    var emergency = false

    @Option(help: "Why the emergency stop was called (required with --emergency).")
    var reason: String?

    @Option(help: "Planned stop: how long to wait for open positions before closing them in paper mode (e.g. 10m; default: runbook.yaml's).")
    var positionWait: String?

    func run() async throws {
        if emergency, (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            UsageFailure("--emergency needs --reason \"…\" (it goes into the incident report)").exit()
        }
        if !emergency, reason != nil { UsageFailure("--reason goes with --emergency").exit() }
        if emergency, positionWait != nil { UsageFailure("--position-wait goes with the planned stop; --emergency does not wait").exit() }
        let wait = positionWait.map { text in
            guard let duration = Duration(yamlScalar: text) else { UsageFailure("--position-wait: expected a duration like 30s, 10m or 1h, got '\(text)'").exit() }
            return duration
        }
        var session = try await options.session(command: emergency ? "stop --emergency" : "stop")
        let mode: StopMode = emergency ? .emergency : .planned
        session.definition.phases[.stop]?.steps.removeAll { $0.when != nil && $0.when != mode }
        if let wait, let steps = session.definition.phases[.stop]?.steps {
            session.definition.phases[.stop]?.steps = steps.map { step in
                guard case .openPositions(_, let poll, let close) = step.check else { return step }
                var shorter = step
                shorter.check = .openPositions(wait: wait, poll: min(poll, max(wait / 10, .seconds(1))), close: close)
                shorter.timeout = wait + .seconds(300)
                return shorter
            }
        }
        session.executor.stopReason = reason
        if let engine = try? DockerEngine(environment: session.executor.environment, project: session.definition.settings.project) {
            session.executor.containersBeforeStop = (try? await engine.containers()) ?? []
        }
        session.reports.audit(command: "stop", action: emergency ? "emergency stop" : "planned stop", outcome: "begin", detail: reason ?? "")
        let record = await session.runPhase(.stop) { results in
            (PhaseVerdict.verdict(results) == "PASS" ? "STOPPED" : "FAIL", reason.map { ["reason: \($0)"] } ?? [])
        }
        session.finish(record, exitFailure: record.verdict != "STOPPED")
    }
}
