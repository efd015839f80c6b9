import ArgumentParser
import Foundation
import Runbook
import StackContract

/// `cdbctl status`: the one command an operator types first.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The run's day and state, trading state, equity, drawdown, exposure, open alarms, incidents and the last cycle.",
        discussion: """
        Reads reports/ (the run, the alarm ledger, the incident history, the last monitor cycle) and, while the run is
        meant to be up, cdb_risk's /status (2 s at most). Takes no lock and changes nothing, so it answers while a cycle
        runs. Exit 0; 2 on a configuration error.
        """)

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let stack = try options.settings()
        let reports = ReportsDirectory(path: options.reportsDir)
        // An unreadable record is said, never shown as "no run" or "no alarms".
        var unreadable: [String] = []
        var run: RunRecord?
        do { run = try RunJournal(reportsDirectory: options.reportsDir).load() } catch { unreadable.append("\(error)") }
        var ledger = AlarmLedger()
        do { ledger = try AlarmLedgerFile(reportsDirectory: options.reportsDir).load() } catch { unreadable.append("\(error)") }
        var risk: Result<RiskStatus, any Error>?
        if run.map({ $0.status.isLive }) ?? true, let base = stack.services.first(where: { $0.name == "cdb_risk" })?.baseURL {
            do {
                risk = .success(try await RiskStatusSource.fetch(baseURL: base, timeout: .seconds(2)))
            } catch {
                risk = .failure(error)
            }
        }
        let overview = RunOverview(time: Date(), run: run, risk: risk, ledger: ledger,
                                   incidents: IncidentHistory(reportsDirectory: options.reportsDir).entries(),
                                   lastCycle: reports.lastRecord(of: .monitor), unreadable: unreadable,
                                   schedule: (try? options.loadRunbook())?.schedule ?? RunbookSchedule())
        print(options.json ? TableOutput.json(overview) : overview.lines.joined(separator: "\n"))
    }
}
