import ArgumentParser
import Foundation
import Runbook

/// `cdbctl preflight`: seed §2.1–2.4.
struct Preflight: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the preflight checklist (seed §2.1–2.4); the results feed `cdbctl go`.",
        discussion: "Exit 0 when every critical item holds, 1 otherwise.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let session = try await options.session(command: "preflight")
        let record = try await session.runPhase(.preflight) { results in (PhaseVerdict.verdict(results), []) }
        try await session.finish(record, failed: !record.verdict.succeeded)
    }
}
