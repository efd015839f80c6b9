import ArgumentParser
import Foundation
import Runbook

/// `cdbctl notify`: the notification channels of runbook.yaml, without the stack.
struct Notify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the notification channels of runbook.yaml (notifications:).",
        subcommands: [Test.self])

    /// `cdbctl notify test`: one test notification through every configured channel.
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a test notification through every configured channel (or one) and show what arrived.",
            discussion: """
            A channel is configured when the .env variables it names are set (CDB_NOTIFY_WEBHOOK_URL, CDB_NOTIFY_SMTP_URL, …); the log channel always is. Needs no running stack; records nothing but the log channel's line.

            Exit 0 when every configured channel delivered, 1 when one did not, 2 on a configuration error (runbook.yaml, .env, a variable set to an unusable value, an unknown --channel).
            """)

        @OptionGroup var options: GlobalOptions

        @Option(help: "Only this channel (a name of notifications.channels).")
        var channel: String?

        func run() async throws {
            let definition = try options.loadRunbook()
            guard let settings = definition.notifications else {
                throw CommandFailure.usage("\(definition.file): has no notifications: section")
            }
            if let channel, settings.channel(named: channel) == nil {
                throw CommandFailure.usage("--channel: unknown channel '\(channel)' (\(settings.channels.map(\.name).joined(separator: ", ")))")
            }
            let notifier = Notifier(settings: settings, environment: try options.environment(),
                                    reportsDirectory: URL(fileURLWithPath: options.reportsDir), project: definition.settings.project)
            let channels = notifier.channels.filter { channel == nil || $0.name == channel }
            let invalid = channels.filter(\.invalid)
            if !invalid.isEmpty {
                throw CommandFailure.usage(invalid.map { "channel '\($0.name)': \($0.detail)" }.joined(separator: "\n"))
            }
            let report = await notifier.test(channel: channel, now: Date())
            let rows = channels.map { status in
                let attempt = report.attempts.first { $0.channel == status.name }
                return NotifyTestRow(channel: status.name, type: status.type, configured: status.configured,
                                     delivered: attempt?.delivered, detail: attempt?.detail ?? status.detail)
            }
            if options.json {
                print(TableOutput.json(rows))
            } else {
                print(TableOutput.table(
                    headers: ["CHANNEL", "TYPE", "CONFIGURED", "DELIVERED", "DETAIL"],
                    rows: rows.map { [$0.channel, $0.type, $0.configured ? "yes" : "no", $0.delivered.map { $0 ? "PASS" : "FAIL" } ?? "-", $0.detail] },
                    statusColumn: 3))
            }
            // A channel asked for by name that cannot send has not shown it reaches anyone.
            let unreached = channel != nil && rows.allSatisfy { !$0.configured }
            if unreached || rows.contains(where: { $0.delivered == false }) { throw CommandFailure.failed(nil) }
        }
    }
}

/// One channel's line of `cdbctl notify test` (also its `--json` document: a list of these).
struct NotifyTestRow: Encodable {
    var channel: String
    var type: String
    var configured: Bool
    /// nil when the channel was not tried (not configured).
    var delivered: Bool?
    var detail: String
}
