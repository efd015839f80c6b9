import ArgumentParser
import Foundation
import Runbook

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
        let record = try await session.runPhase(.go) { results in
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
        if decision?.go == true { session.updateRun("go") { RunTransitions.go($0, at: record.finishedAt) } }
        try await session.finish(record, failed: decision?.go != true)
    }
}
