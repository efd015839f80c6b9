import ArgumentParser
import Runbook

/// `cdbctl risk …`: operator actions on cdb_risk's paper account.
struct Risk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Operator actions on cdb_risk's paper account.",
        subcommands: [ResetAccount.self])
}

/// `cdbctl risk reset-account --yes`: runbook.yaml's reset_account phase.
struct ResetAccount: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-account",
        abstract: "Start a fresh paper account (e.g. after STARTING_CAPITAL_USD changed): backup, stop cdb_risk, delete its saved account, start it.",
        discussion: """
        cdb_risk refuses to start on a saved account whose starting capital differs from STARTING_CAPITAL_USD; this is the way out. \
        The backup goes to <reports-dir>/backups/ and must restore before anything is deleted; the database keeps the old \
        account's history. Exit 0 when cdb_risk runs on the fresh account, 1 when a step failed, 2 without --yes.
        """)

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Confirm: the account (cash, positions, halts) is deleted after the backup.")
    var yes = false

    func validate() throws {
        guard yes else { throw ValidationError("reset-account deletes cdb_risk's account: run it again with --yes (a backup is taken first)") }
    }

    func run() async throws {
        var session = try await options.session(command: "risk reset-account")
        session.executor.command.confirmedDestructive = true
        session.reports.audit(command: "risk reset-account", action: "reset account", outcome: "begin", detail: "")
        let record = try await session.runPhase(.resetAccount) { results in (PhaseVerdict.verdict(results), []) }
        try await session.finish(record, failed: !record.verdict.succeeded)
    }
}
