import ChildProcesses
import Foundation
import LocalServers
import Runbook
// Foundation has a Notification too; the scoped import says which one this file means.
import struct Runbook.Notification
import Testing

/// Channels to the given receivers (a nil port leaves the channel's variables unset) beside the log channel.
private func notifier(webhookPort: Int? = nil, smtpPort: Int? = nil, reports: URL,
                      escalation: [EscalationLevel] = [], extra environment: [String: String] = [:]) -> Notifier {
    var env = environment
    if let webhookPort { env["CDB_NOTIFY_WEBHOOK_URL"] = "http://127.0.0.1:\(webhookPort)/hooks/T0/SECRET-TOKEN" }
    if let smtpPort {
        env["CDB_NOTIFY_SMTP_URL"] = "smtp://127.0.0.1:\(smtpPort)"
        env["CDB_NOTIFY_SMTP_USER"] = "cdb"
        env["CDB_NOTIFY_SMTP_PASSWORD"] = "hunter2-smtp"
        env["CDB_NOTIFY_EMAIL_FROM"] = "cdb@paper.test"
        env["CDB_NOTIFY_EMAIL_TO"] = "operator@paper.test, lead@paper.test"
    }
    let settings = NotificationSettings(
        channels: [
            NotificationChannel(name: "log", minSeverity: .info, transport: .log(file: "notifications.jsonl")),
            NotificationChannel(name: "webhook", minSeverity: .warning, transport: .webhook(urlVariable: "CDB_NOTIFY_WEBHOOK_URL")),
            NotificationChannel(name: "email", minSeverity: .critical, transport: .email(EmailVariables())),
        ],
        escalation: escalation)
    return Notifier(settings: settings, environment: env, reportsDirectory: reports)
}

private func containersDown(at time: Date, severity: NotificationSeverity = .critical) -> Notification {
    Notification(kind: .alarmOpened, severity: severity, key: "alarm:containers", title: "cdb_core is not running",
                 body: "cdb_core exited (137) at 03:00", time: time, runID: "run-20261202T030000Z")
}

/// Lines of the log channel's file, decoded.
private func logLines(_ reports: URL) throws -> [[String: Any]] {
    let text = try String(contentsOf: reports.appendingPathComponent("notifications.jsonl"), encoding: .utf8)
    return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}

@Suite("Notifications delivered to real receivers on loopback")
struct NotificationDeliveryTests {
    @Test("the webhook gets one JSON POST with alarm, severity, status, title, body, time and run_id; the token is never reported")
    func webhookPayload() async throws {
        let receiver = try HTTPReceiver()
        defer { receiver.stop() }
        let reports = try scratchDirectory("notify-webhook")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let report = await notifier(webhookPort: receiver.port, reports: reports).deliver([containersDown(at: now)], now: now)
        #expect(!report.hasProblems, "\(report)")
        #expect(report.attempts.map(\.channel).sorted() == ["log", "webhook"])
        let request = try #require(receiver.requests.first)
        #expect(receiver.requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.path == "/hooks/T0/SECRET-TOKEN")
        #expect(request.headers["content-type"] == "application/json")
        let json = try #require(request.json)
        #expect(json["alarm"] as? String == "containers")
        #expect(json["severity"] as? String == "critical")
        #expect(json["status"] as? String == "firing")
        #expect(json["kind"] as? String == "alarm_opened")
        #expect(json["title"] as? String == "cdb_core is not running")
        #expect(json["body"] as? String == "cdb_core exited (137) at 03:00")
        #expect(json["time"] as? String == "2027-01-15T08:00:00Z")
        #expect(json["run_id"] as? String == "run-20261202T030000Z")
        #expect(!"\(report)".contains("SECRET-TOKEN"))
        let logged = try logLines(reports)
        #expect(logged.map { $0["channel"] as? String } == ["log"])
        let mode = try FileManager.default.attributesOfItem(atPath: reports.appendingPathComponent("notifications.jsonl").path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let stateMode = try FileManager.default.attributesOfItem(atPath: reports.appendingPathComponent("state/notifications.json").path)[.posixPermissions] as? Int
        #expect(stateMode == 0o600)
    }

    @Test("the SMTP receiver gets the envelope, From, To, Subject, the body and the login; the password is never reported")
    func email() async throws {
        let receiver = try SMTPReceiver()
        defer { receiver.stop() }
        let reports = try scratchDirectory("notify-email")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let report = await notifier(smtpPort: receiver.port, reports: reports).deliver([containersDown(at: now)], now: now)
        #expect(!report.hasProblems, "\(report)")
        let message = try #require(receiver.messages.first)
        #expect(receiver.messages.count == 1)
        #expect(message.from == "cdb@paper.test")
        #expect(message.recipients == ["operator@paper.test", "lead@paper.test"])
        #expect(message.login == "cdb:hunter2-smtp")
        #expect(message.header("From") == "cdb@paper.test")
        #expect(message.header("To") == "operator@paper.test, lead@paper.test")
        #expect(message.header("Subject") == "[cdb CRITICAL] cdb_core is not running")
        #expect(message.header("Date") == "Fri, 15 Jan 2027 08:00:00 +0000")
        #expect(message.header("Message-ID")?.hasSuffix("@paper.test>") == true)
        #expect(message.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(message.body.contains("cdb_core exited (137) at 03:00"))
        #expect(message.body.contains("run: run-20261202T030000Z"))
        #expect(!"\(report)".contains("hunter2"))
        let attempt = try #require(report.attempts.first { $0.channel == "email" })
        #expect(attempt.detail == "smtp://127.0.0.1:\(receiver.port) → operator@paper.test, lead@paper.test")
    }

    @Test("a server that refuses the recipients is a failed delivery with curl's code and the server's answer")
    func refusedRecipients() async throws {
        let receiver = try SMTPReceiver(behaviour: .refusingRecipients)
        defer { receiver.stop() }
        let reports = try scratchDirectory("notify-refused")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let report = await notifier(smtpPort: receiver.port, reports: reports).deliver([containersDown(at: now)], now: now)
        #expect(report.failedChannels == ["email"])
        let attempt = try #require(report.attempts.first { $0.channel == "email" })
        #expect(attempt.detail.hasPrefix("smtp://127.0.0.1:\(receiver.port): "), "\(attempt.detail)")
        #expect(attempt.detail.contains("curl error"), "\(attempt.detail)")
        #expect(!attempt.detail.contains("hunter2"))
        #expect(receiver.messages.isEmpty)
    }

    @Test("a server that accepts and never greets is given up within the timeouts (curl counts the greeting into the 5 s connect)")
    func hungServer() async throws {
        let receiver = try SMTPReceiver(behaviour: .silent)
        defer { receiver.stop() }
        let reports = try scratchDirectory("notify-hung")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let clock = ContinuousClock()
        let began = clock.now
        let report = await notifier(smtpPort: receiver.port, reports: reports).deliver([containersDown(at: now)], now: now)
        let elapsed = clock.now - began
        #expect(report.failedChannels == ["email"])
        #expect(report.attempts.first { $0.channel == "email" }?.detail.contains("curl error 28") == true, "\(report.attempts)")
        #expect(elapsed < .seconds(16), "\(elapsed)")
        #expect(report.outboxPending == 1)
    }

    @Test("a dead receiver: channelFailed to the other channels, the outbox keeps the delivery, and once the receiver is up it arrives once")
    func deadReceiverThenOutbox() async throws {
        let port = try freeLoopbackPort()
        let reports = try scratchDirectory("notify-outbox")
        let notifier = notifier(webhookPort: port, reports: reports)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let down = await notifier.deliver([containersDown(at: now)], now: now)
        #expect(down.failedChannels == ["webhook"])
        #expect(down.outboxPending == 1)
        #expect(down.problemSummary.contains("webhook: http://127.0.0.1:\(port)"), "\(down.problemSummary)")
        #expect(!down.problemSummary.contains("SECRET-TOKEN"))
        let failedAttempt = try #require(down.attempts.first { $0.channel == "webhook" })
        #expect(!failedAttempt.delivered)
        #expect(failedAttempt.detail.contains("curl error 7"), "\(failedAttempt.detail)")
        let logged = try logLines(reports)
        #expect(logged.map { $0["kind"] as? String } == ["alarm_opened", "channel_failed"])
        #expect((logged.last?["key"] as? String) == "channel:webhook")

        let receiver = try HTTPReceiver(port: port)
        defer { receiver.stop() }
        let up = await notifier.deliver([], now: now + 300)
        #expect(!up.hasProblems, "\(up)")
        #expect(up.outboxPending == 0)
        #expect(up.attempts.map(\.retry) == [true])
        #expect(receiver.requests.count == 1)
        #expect(receiver.requests.first?.json?["alarm"] as? String == "containers")
        _ = await notifier.deliver([], now: now + 600)
        #expect(receiver.requests.count == 1)
    }

    @Test("the same key within per_key reaches the receiver once; a higher severity goes through")
    func dedupe() async throws {
        let receiver = try HTTPReceiver()
        defer { receiver.stop() }
        let reports = try scratchDirectory("notify-dedupe")
        let notifier = notifier(webhookPort: receiver.port, reports: reports)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        _ = await notifier.deliver([containersDown(at: now, severity: .warning)], now: now)
        let again = await notifier.deliver([containersDown(at: now + 300, severity: .warning)], now: now + 300)
        #expect(again.suppressed == ["alarm:containers"])
        #expect(receiver.requests.count == 1)
        _ = await notifier.deliver([containersDown(at: now + 600, severity: .critical)], now: now + 600)
        #expect(receiver.requests.map { $0.json?["severity"] as? String } == ["warning", "critical"])
    }

    @Test("an alarm still open after L2's `after` is mailed to L2's own recipients once")
    func escalation() async throws {
        let receiver = try SMTPReceiver()
        defer { receiver.stop() }
        let reports = try scratchDirectory("notify-escalation")
        let levels = [EscalationLevel(level: "L2", role: "Projektleiter", after: .seconds(1800), channels: ["email"], recipientsVariable: "CDB_NOTIFY_ESCALATION_L2")]
        let notifier = notifier(smtpPort: receiver.port, reports: reports, escalation: levels, extra: ["CDB_NOTIFY_ESCALATION_L2": "jannek@paper.test"])
        let opened = Date(timeIntervalSince1970: 1_800_000_000)
        let open = [OpenAlarm(key: "alarm:containers", severity: .critical, title: "cdb_core is not running", openedAt: opened)]
        let early = await notifier.escalate(open: open, now: opened + 600)
        #expect(early.attempts.isEmpty)
        let due = await notifier.escalate(open: open, now: opened + 1860)
        #expect(!due.hasProblems, "\(due)")
        let message = try #require(receiver.messages.first)
        #expect(message.recipients == ["jannek@paper.test"])
        #expect(message.header("Subject") == "[cdb CRITICAL] L2 (Projektleiter): cdb_core is not running")
        _ = await notifier.escalate(open: open, now: opened + 2400)
        #expect(receiver.messages.count == 1)
    }
}

@Suite("cdbctl notify test")
struct NotifyCommandTests {
    static let runbook = """
        version: 1
        notifications:
          channels:
            - { name: log, type: log }
            - { name: webhook, type: webhook, min_severity: warning }
            - { name: email, type: email, min_severity: critical }
        phases: {}
        """

    func project(_ env: String) throws -> URL {
        let directory = try scratchDirectory("cdbctl-notify")
        try Self.runbook.write(to: directory.appendingPathComponent("runbook.yaml"), atomically: true, encoding: .utf8)
        try env.write(to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        return directory
    }

    @Test("every configured channel gets the test, exit 0; a dead webhook exits 1; secrets stay out of the output")
    func endToEnd() async throws {
        let webhook = try HTTPReceiver()
        defer { webhook.stop() }
        let smtp = try SMTPReceiver()
        defer { smtp.stop() }
        let env = """
            CDB_NOTIFY_WEBHOOK_URL=http://127.0.0.1:\(webhook.port)/hooks/SECRET-TOKEN
            CDB_NOTIFY_SMTP_URL=smtp://127.0.0.1:\(smtp.port)
            CDB_NOTIFY_SMTP_USER=cdb
            CDB_NOTIFY_SMTP_PASSWORD=hunter2-smtp
            CDB_NOTIFY_EMAIL_FROM=cdb@paper.test
            CDB_NOTIFY_EMAIL_TO=operator@paper.test

            """
        let directory = try project(env)
        let result = try await CDBCtl.run(["notify", "test"], in: directory)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("CHANNEL"))
        #expect(webhook.requests.count == 1)
        #expect(webhook.requests.first?.json?["kind"] as? String == "test")
        #expect(smtp.messages.count == 1)
        #expect(smtp.messages.first?.header("Subject") == "[cdb INFO] Test notification from cdbctl")
        #expect(!result.output.contains("SECRET-TOKEN"))
        #expect(!result.output.contains("hunter2"))

        let one = try await CDBCtl.run(["notify", "test", "--channel", "email", "--json"], in: directory)
        #expect(one.status == 0, "\(one.output)")
        #expect(smtp.messages.count == 2)
        #expect(webhook.requests.count == 1)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(one.output.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["channel"] as? String } == ["email"])
        #expect(rows.first?["delivered"] as? Bool == true)

        let dead = try freeLoopbackPort()
        let broken = try project(env.replacingOccurrences(of: "127.0.0.1:\(webhook.port)", with: "127.0.0.1:\(dead)"))
        let failed = try await CDBCtl.run(["notify", "test"], in: broken)
        #expect(failed.status == 1, "\(failed.output)")
        #expect(failed.output.contains("http://127.0.0.1:\(dead)"), "\(failed.output)")
        #expect(!failed.output.contains("SECRET-TOKEN"))
    }

    @Test("with nothing set only the log channel is tried (exit 0); an unknown --channel or an unusable URL exits 2")
    func unconfiguredAndInvalid() async throws {
        let empty = try project("")
        let result = try await CDBCtl.run(["notify", "test"], in: empty)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("CDB_NOTIFY_WEBHOOK_URL is not set"), "\(result.output)")
        let logged = try String(contentsOf: empty.appendingPathComponent("reports/notifications.jsonl"), encoding: .utf8)
        #expect(logged.contains("\"kind\":\"test\""))
        let unknown = try await CDBCtl.run(["notify", "test", "--channel", "pager"], in: empty)
        #expect(unknown.status == 2, "\(unknown.output)")
        #expect(unknown.output.contains("unknown channel 'pager'"))
        let invalid = try await CDBCtl.run(["notify", "test"], in: try project("CDB_NOTIFY_WEBHOOK_URL=ftp://example.org/x\n"))
        #expect(invalid.status == 2, "\(invalid.output)")
        #expect(invalid.output.contains("CDB_NOTIFY_WEBHOOK_URL: expected an http:// or https:// URL"))
    }

    @Test("a NO-GO is notified as critical through the webhook; the command's exit code stays the verdict's")
    func goVerdictNotified() async throws {
        let webhook = try HTTPReceiver()
        defer { webhook.stop() }
        let directory = try scratchDirectory("cdbctl-notify-go")
        try Self.runbook.replacingOccurrences(of: "phases: {}", with: """
            phases:
              go:
                - { id: pause, title: Pause, seed: "2.5", check: { type: wait, duration: 10ms } }
            """).write(to: directory.appendingPathComponent("runbook.yaml"), atomically: true, encoding: .utf8)
        try "CDB_NOTIFY_WEBHOOK_URL=http://127.0.0.1:\(webhook.port)/hook\n".write(to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let result = try await CDBCtl.run(["go"], in: directory)
        #expect(result.status == 1, "\(result.output)")
        let json = try #require(webhook.requests.first?.json)
        #expect(json["kind"] as? String == "no_go")
        #expect(json["severity"] as? String == "critical")
        #expect(json["alarm"] as? String == "phase:go:no-go")
        let audit = try String(contentsOf: directory.appendingPathComponent("reports/audit.jsonl"), encoding: .utf8)
        #expect(audit.contains("\"action\":\"notify no_go\""))

        // Another project whose webhook is down: a warning line, the same exit code.
        let down = try scratchDirectory("cdbctl-notify-go-down")
        try FileManager.default.copyItem(at: directory.appendingPathComponent("runbook.yaml"), to: down.appendingPathComponent("runbook.yaml"))
        try "CDB_NOTIFY_WEBHOOK_URL=http://127.0.0.1:\(try freeLoopbackPort())/hook\n".write(to: down.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let unreachable = try await CDBCtl.run(["go"], in: down)
        #expect(unreachable.status == 1, "\(unreachable.output)")
        #expect(unreachable.output.contains("cdbctl: warning: notification not delivered everywhere: webhook:"), "\(unreachable.output)")
    }
}
