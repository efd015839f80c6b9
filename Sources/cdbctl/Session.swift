import ArgumentParser
import Foundation
import Primitives
import Runbook
import struct Runbook.Notification
import StackContract

extension GlobalOptions {
    /// runbook.yaml, validated; any problem is a usage failure (exit 2) with every located message.
    func loadRunbook() throws(CommandFailure) -> RunbookDefinition {
        do {
            var definition = try RunbookDefinition.load(path: runbook)
            // The same precedence as compose itself: the flag, then COMPOSE_PROJECT_NAME, then the runbook.
            if let name = project ?? ProcessInfo.processInfo.environment["COMPOSE_PROJECT_NAME"] ?? (try? environment())?["COMPOSE_PROJECT_NAME"] {
                definition.settings.project = name
            }
            return definition
        } catch {
            throw .usage("\(error)")
        }
    }

    /// The project's root: where runbook.yaml, checks/ and templates/ are.
    var projectDirectory: String {
        let directory = URL(fileURLWithPath: runbook).deletingLastPathComponent().path
        return directory.isEmpty ? "." : directory
    }

    /// The merged environment and the stack's settings; a problem is a usage failure with every message.
    func stackEnvironment() throws -> (environment: [String: String], stack: StackSettings) {
        (try environment(), try settings())
    }

    /// Everything a phase command needs, with the lock held for the command's lifetime.
    func session(command: String) async throws -> PhaseSession {
        let definition = try loadRunbook()
        let (environment, stack) = try stackEnvironment()
        let reports = ReportsDirectory(path: reportsDir, mask: SecretMask(environment: environment))
        let lock: RunLock
        do {
            lock = try RunLock(directory: reportsDir, command: command)
        } catch {
            throw CommandFailure.lockHeld("\(error)")
        }
        if let stale = lock.staleHolder {
            FileHandle.standardError.write(Data("cdbctl: note: took over a stale lock (\(stale), no longer running)\n".utf8))
            reports.audit(command: command, action: "lock", outcome: "stale lock taken over", detail: stale)
        }
        var executor = StackExecutor(environment: environment, stack: stack, runbook: definition.settings,
                                     projectDirectory: projectDirectory,
                                     reportsDirectory: reportsDir, previousCycle: reports.lastRecord(of: .monitor))
        executor.command.actor = "cdbctl \(command)"
        return PhaseSession(command: command, definition: definition, reports: reports, lock: lock, executor: executor, json: json,
                            skipping: Set(skippedSteps))
    }

    /// The lock alone, for commands that change the run's records without running a phase (maintenance, hold).
    func lockForRecords(command: String) throws(CommandFailure) -> RunLock {
        do {
            return try RunLock(directory: reportsDir, command: command)
        } catch {
            throw .lockHeld("\(error)")
        }
    }
}

extension PhaseSession {
    var journal: RunJournal { RunJournal(reportsDirectory: reports.root.path) }

    /// Applies a run transition and audits it; a run that cannot be written is a warning, never a lost verdict.
    func updateRun(_ action: String, _ transition: (RunRecord?) throws -> RunRecord) {
        do {
            let run = try journal.update(transition)
            reports.audit(command: command, action: "run \(action)", outcome: run.status.rawValue, detail: run.id)
        } catch {
            StandardError.write("cdbctl: warning: the run's state (\(journal.path)) not updated: \(error)\n")
            reports.audit(command: command, action: "run \(action)", outcome: "not written", detail: "\(error)")
        }
    }
}

/// One phase command's run: executes, prints, records, audits.
struct PhaseSession {
    var command: String
    var definition: RunbookDefinition
    var reports: ReportsDirectory
    var lock: RunLock
    var executor: StackExecutor
    var json: Bool
    var skipping: Set<String>

    /// Runs `body` with the library's runner for this command. Progress goes to stderr, so stdout stays the
    /// table (or the JSON document): a long `command` step's live line (also with `--json`, and as plain lines
    /// in a log), and each step's verdict on a terminal.
    func withRunner<T>(_ body: (PhaseRunner) async throws -> T) async rethrows -> T {
        let showVerdicts = isatty(STDERR_FILENO) == 1 && !json
        let display = ProgressDisplay.standardError()
        defer { display.close() }
        var executor = executor
        executor.commandProgress = { display.update($0) }
        let runner = PhaseRunner(command: command, definition: definition, reports: reports, executor: executor, skipping: skipping) { result in
            if showVerdicts { display.note("  \(result.status.rawValue.uppercased()) \(result.id)") }
        }
        return try await body(runner)
    }

    /// Runs the phase; `judge` turns its results into the verdict and notes. A refused request is a usage failure.
    func runPhase(_ phase: PhaseName, judge: ([StepResult]) -> (Verdict, [String])) async throws(CommandFailure) -> PhaseRecord {
        do {
            return try await withRunner { try await $0.run(phase, judge: judge) }
        } catch {
            lock.release()
            throw .usage("\(error)")
        }
    }

    /// Saves the record, prints it, audits the verdict, notifies it, releases the lock; a failed command then fails (exit 1).
    func finish(_ record: PhaseRecord, failed: Bool) async throws(CommandFailure) {
        let paths = try? reports.save(record)
        reports.audit(command: command, action: "verdict", outcome: record.verdict.rawValue, detail: paths?.json ?? "record not written")
        // Masked like the record: under cron this output is the job's log (reports/cron/<id>.log).
        let mask = reports.mask
        if json {
            print(mask.apply(TableOutput.json(record)))
        } else {
            print(TableOutput.table(
                headers: ["STEP", "SEED", "SEVERITY", "STATUS", "DETAIL"],
                rows: record.results.map { [$0.id, $0.seed, $0.severity.rawValue, $0.status.rawValue.uppercased(), mask.apply($0.detail)] },
                statusColumn: 3))
            record.notes.forEach { print(mask.apply($0)) }
            print("\n\(record.phase.rawValue): \(record.verdict)")
            if let paths { print("record: \(paths.markdown)") } else { print("warning: could not write the record under \(reports.root.path)") }
        }
        // After the output: a slow receiver (at most 15 s) must not hold back what the operator reads.
        fflush(nil)  // every stream: stdout is block-buffered under cron
        await notifyVerdict(record)
        lock.release()
        if failed { throw .failed(nil) }
    }

    /// Tells the operator the verdict through runbook.yaml's notification channels. A delivery that fails is a
    /// warning line and an audit entry, never the command's outcome.
    private func notifyVerdict(_ record: PhaseRecord) async {
        guard let notification = Notification.verdict(of: record, command: command, runID: journal.current()?.id) else { return }
        await notify([notification], action: "notify \(notification.kind.rawValue)")
    }

    /// Delivers through runbook.yaml's channels, and, given the open alarms (a monitor cycle, every one, even with
    /// none open: that is what forgets the escalations of alarms that ended), escalates those that outlasted a level.
    /// A delivery that fails is a warning line and an audit entry, never the command's outcome.
    func notify(_ notifications: [Notification], escalating open: [OpenAlarm]? = nil, action: String) async {
        guard let settings = definition.notifications, !(notifications.isEmpty && open == nil) else { return }
        let notifier = Notifier(settings: settings, environment: executor.environment, reportsDirectory: reports.root, project: definition.settings.project)
        var reportsMade = [await notifier.deliver(notifications, now: Date())]
        if let open { reportsMade.append(await notifier.escalate(open: open, now: Date())) }
        for report in reportsMade {
            if report.hasProblems {
                StandardError.write("cdbctl: warning: notification not delivered everywhere: \(report.problemSummary)\n")
            }
            let delivered = Set(report.attempts.filter(\.delivered).map(\.channel)).sorted()
            if report.hasProblems || !delivered.isEmpty {
                reports.audit(command: command, action: action, outcome: report.hasProblems ? "failed" : "delivered",
                              detail: report.hasProblems ? report.problemSummary : delivered.joined(separator: ", "))
            }
        }
    }
}
