import Foundation
@testable import Runbook
// Foundation has a Notification too; the scoped import says which one this file means.
import struct Runbook.Notification
import Testing

/// Three channels as the project's runbook has them, and seed §9.1's two escalation levels.
private let settings = NotificationSettings(
    channels: [
        NotificationChannel(name: "log", minSeverity: .info, transport: .log(file: "notifications.jsonl")),
        NotificationChannel(name: "webhook", minSeverity: .warning, transport: .webhook(urlVariable: "CDB_NOTIFY_WEBHOOK_URL")),
        NotificationChannel(name: "email", minSeverity: .critical, transport: .email(EmailVariables())),
    ],
    escalation: [
        EscalationLevel(level: "L2", role: "Projektleiter", after: .seconds(1800), channels: ["email"], recipientsVariable: "CDB_NOTIFY_ESCALATION_L2"),
        EscalationLevel(level: "L3", role: "Server-Admin", after: .seconds(7200), channels: ["email", "webhook"]),
    ],
    rateLimit: NotificationRateLimit(perKey: .seconds(3600), maxPerHour: 5))

private let everyChannel: Set<String> = ["log", "webhook", "email"]
private let start = Date(timeIntervalSince1970: 1_800_000_000)

private func notice(_ severity: NotificationSeverity, kind: NotificationKind = .alarmOpened, key: String = "alarm:containers", at time: Date = start) -> Notification {
    Notification(kind: kind, severity: severity, key: key, title: "cdb_core is down", body: "exited 137", time: time)
}

@Suite("Notification routing, dedupe and rate limit")
struct NotificationPlannerTests {
    let planner = NotificationPlanner(settings: settings)

    @Test("a notification goes to every configured channel its severity reaches")
    func routesBySeverity() {
        var ledger = NotificationLedger()
        let plan = planner.plan([notice(.warning, key: "alarm:a"), notice(.critical, key: "alarm:b"), notice(.info, kind: .go, key: "phase:go")],
                                ledger: &ledger, available: ["log", "webhook"], now: start)
        #expect(plan.deliveries.map { "\($0.notification.key)→\($0.channel)" } == ["alarm:a→log", "alarm:a→webhook", "alarm:b→log", "alarm:b→webhook", "phase:go→log"])
    }

    @Test("the same key within per_key is suppressed unless its severity rose or it resolved; after per_key it goes again")
    func dedupe() {
        var ledger = NotificationLedger()
        #expect(planner.plan([notice(.warning)], ledger: &ledger, available: everyChannel, now: start).deliveries.count == 2)
        let repeated = planner.plan([notice(.warning, kind: .alarmRepeated)], ledger: &ledger, available: everyChannel, now: start + 600)
        #expect(repeated.deliveries.isEmpty)
        #expect(repeated.suppressed.map(\.key) == ["alarm:containers"])
        let rose = planner.plan([notice(.critical, kind: .alarmRepeated)], ledger: &ledger, available: everyChannel, now: start + 700)
        #expect(rose.deliveries.map(\.channel) == ["log", "webhook", "email"])
        #expect(planner.plan([notice(.warning, kind: .alarmRepeated)], ledger: &ledger, available: everyChannel, now: start + 800).deliveries.isEmpty)
        let resolved = planner.plan([notice(.info, kind: .alarmResolved)], ledger: &ledger, available: everyChannel, now: start + 900)
        #expect(resolved.deliveries.map(\.channel) == ["log"])
        #expect(planner.plan([notice(.info, kind: .alarmResolved)], ledger: &ledger, available: everyChannel, now: start + 950).deliveries.isEmpty)
        // Opened again after its resolution: news, not a repeat.
        #expect(planner.plan([notice(.warning)], ledger: &ledger, available: everyChannel, now: start + 1000).deliveries.count == 2)
        #expect(planner.plan([notice(.warning, kind: .alarmRepeated)], ledger: &ledger, available: everyChannel, now: start + 1000 + 3600).deliveries.count == 2)
    }

    @Test("beyond max_per_hour notifications are held and summarised in one message once the hour has room")
    func rateLimit() {
        var ledger = NotificationLedger()
        let burst = (1...8).map { notice(.warning, key: "alarm:a\($0)") }
        let first = planner.plan(burst, ledger: &ledger, available: ["log"], now: start)
        #expect(first.deliveries.count == 5)
        #expect(first.held.map(\.key) == ["alarm:a6", "alarm:a7", "alarm:a8"])
        #expect(ledger.held.count == 3)
        // Still within the hour: nothing goes, the summary waits too.
        let inside = planner.plan([notice(.critical, key: "alarm:b")], ledger: &ledger, available: ["log"], now: start + 1800)
        #expect(inside.deliveries.isEmpty)
        #expect(ledger.held.count == 4)
        #expect(ledger.held.severity == .critical)
        let later = planner.plan([notice(.warning, key: "alarm:c")], ledger: &ledger, available: ["log"], now: start + 3600)
        #expect(later.deliveries.map(\.notification.kind) == [.held, .alarmOpened])
        let summary = later.deliveries[0].notification
        #expect(summary.title == "4 notifications held by the rate limit")
        #expect(summary.severity == .critical)
        #expect(summary.body.contains("alarm:a6, alarm:a7, alarm:a8, alarm:b"))
        #expect(ledger.held == HeldNotifications())
    }

    @Test("test notifications pass dedupe and the rate limit")
    func testNotificationsPass() {
        var ledger = NotificationLedger()
        let test = Notification(kind: .test, severity: .info, key: "test", title: "t", body: "", time: start)
        let plan = planner.plan(Array(repeating: test, count: 7), ledger: &ledger, available: ["log"], now: start)
        #expect(plan.deliveries.count == 7)
        #expect(ledger.sentTimes.isEmpty)
    }
}

@Suite("Escalation and the outbox")
struct NotificationEscalationTests {
    let planner = NotificationPlanner(settings: settings)

    @Test("an alarm still open after a level's `after` goes to that level once; closed, the chain starts over")
    func escalation() {
        var ledger = NotificationLedger()
        let open = [OpenAlarm(key: "alarm:containers", severity: .critical, title: "cdb_core is down", openedAt: start)]
        #expect(planner.escalations(open: open, ledger: &ledger, available: everyChannel, now: start + 1799).isEmpty)
        let level2 = planner.escalations(open: open, ledger: &ledger, available: everyChannel, now: start + 1800)
        #expect(level2.map(\.channel) == ["email"])
        #expect(level2.first?.recipientsVariable == "CDB_NOTIFY_ESCALATION_L2")
        #expect(level2.first?.notification.kind == .alarmEscalated)
        #expect(level2.first?.notification.title == "L2 (Projektleiter): cdb_core is down")
        #expect(planner.escalations(open: open, ledger: &ledger, available: everyChannel, now: start + 3600).isEmpty)
        let level3 = planner.escalations(open: open, ledger: &ledger, available: everyChannel, now: start + 7200)
        #expect(level3.map(\.channel) == ["email", "webhook"])
        #expect(level3.first?.recipientsVariable == nil)
        #expect(planner.escalations(open: [], ledger: &ledger, available: everyChannel, now: start + 7300).isEmpty)
        #expect(ledger.escalated.isEmpty)
        let again = [OpenAlarm(key: "alarm:containers", severity: .critical, title: "cdb_core is down", openedAt: start + 8000)]
        #expect(planner.escalations(open: again, ledger: &ledger, available: everyChannel, now: start + 8000 + 1800).map(\.channel) == ["email"])
    }

    @Test("an alarm found past both levels at once gets both, each once")
    func lateEscalation() {
        var ledger = NotificationLedger()
        let open = [OpenAlarm(key: "alarm:x", severity: .warning, title: "x", openedAt: start)]
        let both = planner.escalations(open: open, ledger: &ledger, available: ["email"], now: start + 9000)
        #expect(both.map(\.notification.title) == ["L2 (Projektleiter): x", "L3 (Server-Admin): x"])
        #expect(ledger.escalated["alarm:x"] == ["L2", "L3"])
    }

    @Test("a failed delivery waits in the outbox and is retried when its channel is available; a channelFailed notice names it")
    func outbox() {
        var ledger = NotificationLedger()
        let delivery = NotificationDelivery(notification: notice(.critical), channel: "webhook")
        let failed = planner.settle([(PendingDelivery(delivery: delivery, attempts: 0, lastError: ""), "127.0.0.1:9: connection refused")], ledger: &ledger)
        #expect(failed.map(\.channel) == ["webhook"])
        #expect(ledger.outbox.map(\.attempts) == [1])
        let notices = planner.failureNotices(failed, pending: ledger.outbox.count, now: start)
        #expect(notices.map(\.kind) == [.channelFailed])
        #expect(notices.first?.key == "channel:webhook")
        #expect(notices.first?.body.contains("connection refused") == true)
        // The webhook is not configured now: the delivery stays.
        #expect(planner.retries(ledger: &ledger, available: ["log"]).isEmpty)
        #expect(ledger.outbox.count == 1)
        let retried = planner.retries(ledger: &ledger, available: ["log", "webhook"])
        #expect(retried.map(\.delivery) == [delivery])
        #expect(ledger.outbox.isEmpty)
        #expect(planner.settle(retried.map { ($0, nil) }, ledger: &ledger).isEmpty)
        #expect(ledger.outbox.isEmpty)
    }

    @Test("the outbox keeps the newest 200 and counts what it dropped; a channel removed from the runbook drops its deliveries")
    func outboxBound() {
        var ledger = NotificationLedger()
        let outcomes = (0..<205).map { index in
            (attempt: PendingDelivery(delivery: NotificationDelivery(notification: notice(.critical, key: "alarm:\(index)"), channel: "email"), attempts: 0, lastError: ""),
             error: Optional("refused"))
        }
        _ = planner.settle(outcomes, ledger: &ledger)
        #expect(ledger.outbox.count == 200)
        #expect(ledger.outbox.first?.delivery.notification.key == "alarm:5")
        #expect(ledger.outboxDropped == 5)
        let narrower = NotificationPlanner(settings: NotificationSettings(channels: [settings.channels[0]]))
        #expect(narrower.retries(ledger: &ledger, available: ["log"]).isEmpty)
        #expect(ledger.outbox.isEmpty)
        #expect(ledger.outboxDropped == 205)
    }
}

@Suite("Notification messages")
struct NotificationMessageTests {
    @Test("the webhook payload carries Alertmanager's grouping fields and run_id even when there is none")
    func payload() throws {
        let resolved = Notification(kind: .alarmResolved, severity: .info, key: "alarm:containers", title: "t", body: "b", time: start)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(NotificationPayload(resolved).encoded())) as? [String: Any])
        #expect(object["alarm"] as? String == "containers")
        #expect(object["status"] as? String == "resolved")
        #expect(object["severity"] as? String == "info")
        #expect(object["kind"] as? String == "alarm_resolved")
        #expect(object["time"] as? String == "2027-01-15T08:00:00Z")
        #expect(object["run_id"] is NSNull)
        #expect(object["channel"] == nil)
    }

    @Test("the e-mail is RFC 5322: CRLF lines, the headers, a one-line encoded subject")
    func mail() {
        let notification = Notification(kind: .noGo, severity: .critical, key: "phase:go", title: "NO-GO für Start\r\nBcc: x@evil", body: "line 1\nline 2", time: start, runID: "run-1")
        let text = String(decoding: MailMessage.render(notification, from: "cdb@example.org", to: ["a@example.org", "b@example.org"], project: "cdb", messageID: "m1"), as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines.contains("Date: Fri, 15 Jan 2027 08:00:00 +0000"))
        #expect(lines.contains("From: cdb@example.org"))
        #expect(lines.contains("To: a@example.org, b@example.org"))
        #expect(lines.contains("Message-ID: <m1@example.org>"))
        #expect(lines.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(!lines.contains { $0.hasPrefix("Bcc:") })
        let subject = lines.first { $0.hasPrefix("Subject: =?utf-8?B?") }
        #expect(subject != nil)
        #expect(lines.contains("line 2"))
        #expect(lines.contains("run: run-1"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }
}

@Suite("runbook.yaml notifications:")
struct NotificationSettingsTests {
    @Test("the project's runbook has the log, webhook and e-mail channels and seed §9.1's chain")
    func projectRunbook() throws {
        let definition = try RunbookDefinition.load(path: repositoryRoot.appendingPathComponent("runbook.yaml").path)
        let notifications = try #require(definition.notifications)
        #expect(notifications.channels.map(\.name) == ["log", "webhook", "email"])
        #expect(notifications.channel(named: "webhook")?.transport == .webhook(urlVariable: "CDB_NOTIFY_WEBHOOK_URL"))
        #expect(notifications.escalation.map(\.level) == ["L2", "L3"])
        #expect(notifications.rateLimit == NotificationRateLimit(perKey: .seconds(3600), maxPerHour: 30))
    }

    @Test("with nothing set only the log channel is ready; the others say which variables are missing")
    func nothingSet() throws {
        let definition = try RunbookDefinition.load(path: repositoryRoot.appendingPathComponent("runbook.yaml").path)
        let notifier = Notifier(settings: try #require(definition.notifications), environment: [:], reportsDirectory: URL(fileURLWithPath: "/tmp/r"))
        #expect(notifier.channels.map(\.configured) == [true, false, false])
        #expect(notifier.channels[1].detail == "CDB_NOTIFY_WEBHOOK_URL is not set")
        #expect(notifier.channels[2].detail == "CDB_NOTIFY_SMTP_URL, CDB_NOTIFY_EMAIL_FROM, CDB_NOTIFY_EMAIL_TO are not set")
    }

    @Test("a webhook URL is shown as its scheme and host only")
    func maskedTarget() {
        let channel = NotificationChannel(name: "hook", minSeverity: .info, transport: .webhook(urlVariable: "HOOK"))
        let notifier = Notifier(settings: NotificationSettings(channels: [channel]),
                                environment: ["HOOK": "https://hooks.example.org:8443/services/T0/B0/SECRET?token=x"], reportsDirectory: URL(fileURLWithPath: "/tmp/r"))
        #expect(notifier.channels.first?.detail == "https://hooks.example.org:8443")
    }

    @Test("a channel set to an unusable value is skipped and reported at every delivery")
    func unusableChannel() async throws {
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("notify-unusable-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        let channels = [NotificationChannel(name: "log", minSeverity: .info, transport: .log(file: "notifications.jsonl")),
                        NotificationChannel(name: "hook", minSeverity: .info, transport: .webhook(urlVariable: "HOOK"))]
        let notifier = Notifier(settings: NotificationSettings(channels: channels), environment: ["HOOK": "ftp://example.org/x"], reportsDirectory: reports)
        let report = await notifier.deliver([notice(.critical)], now: start)
        #expect(report.unusableChannels == ["hook: HOOK: expected an http:// or https:// URL"])
        #expect(report.hasProblems)
        #expect(report.attempts.map(\.channel) == ["log"])
    }

    @Test("a password goes without TLS only to this machine")
    func loopbackOnly() {
        #expect(NotificationTransport.isLoopback("smtp://127.0.0.1:2525"))
        #expect(NotificationTransport.isLoopback("smtp://localhost"))
        #expect(!NotificationTransport.isLoopback("smtp://mail.example.org:587"))
        #expect(!NotificationTransport.isLoopback("smtp://127.example.org"))
    }

    static let corpus: [(text: String, expected: String)] = [
        ("  channels:\n    - { name: pager, type: pagr }\n",
         "runbook.yaml:4:28: notifications.channels.pager.type: unknown channel type 'pagr' (webhook, email or log)"),
        ("  channels:\n    - { name: hook, type: webhook, url_env: \"https://example.org/x\" }\n",
         "runbook.yaml:4:45: notifications.channels.hook.url_env: the name of a .env variable (A-Z, 0-9, _), got a value; put the value in .env"),
        ("  channels:\n    - { name: hook, type: webhook, file: x.jsonl }\n",
         "runbook.yaml:4:36: notifications.channels.hook.file: not a key of webhook channels (url_env)"),
        ("  channels:\n    - { name: log, type: log, min_severity: urgent }\n",
         "runbook.yaml:4:45: notifications.channels.log.min_severity: expected info, warning or critical, got 'urgent'"),
        ("  channels:\n    - { name: log, type: log }\n  escalation:\n    - { level: L2, after: 30m, channels: [mail] }\n",
         "runbook.yaml:6:43: notifications.escalation.L2.channels: unknown channel 'mail'"),
        ("  channels:\n    - { name: log, type: log }\n  rate_limit: { per_key: 1h, max_per_hours: 3 }\n",
         "runbook.yaml:5:30: notifications.rate_limit: unknown key 'max_per_hours' (did you mean 'max_per_hour'?)"),
        ("  channels:\n    - { name: log, type: log, file: ../../etc/x }\n",
         "runbook.yaml:4:37: notifications.channels.log.file: a path inside the reports directory, got '../../etc/x'"),
    ]

    @Test("mistakes in notifications: are located errors", arguments: corpus.indices)
    func locatedErrors(_ index: Int) {
        let (text, expected) = Self.corpus[index]
        let messages = validationMessages("version: 1\nnotifications:\n" + text + "phases: {}\n")
        #expect(messages == [expected])
    }
}

@Suite("Phase verdicts as notifications")
struct PhaseNotificationTests {
    func record(_ phase: PhaseName, _ verdict: Verdict) -> PhaseRecord {
        PhaseRecord(phase: phase, verdict: verdict, startedAt: start, finishedAt: start + 60, results: [], notes: ["reason: disk full"])
    }

    @Test("GO is info, NO-GO and a failed start critical, an emergency stop critical, a resolved incident a warning; preflight is not notified")
    func severities() {
        let cases: [(PhaseRecord, String, NotificationKind, NotificationSeverity)] = [
            (record(.go, .go), "go", .go, .info), (record(.go, .noGo), "go", .noGo, .critical),
            (record(.start, .operational), "start", .started, .info), (record(.start, .fail), "start", .started, .critical),
            (record(.stop, .stopped), "stop", .stopped, .info), (record(.stop, .stopped), "stop --emergency", .stopped, .critical),
            (record(.incidents, .resolved), "incident container-crash", .incident, .warning),
            (record(.incidents, .escalated), "incident container-crash", .incident, .critical),
        ]
        for (record, command, kind, severity) in cases {
            let notification = Notification.verdict(of: record, command: command, runID: "run-1")
            #expect(notification?.kind == kind, "\(command) \(record.verdict)")
            #expect(notification?.severity == severity, "\(command) \(record.verdict)")
        }
        #expect(Notification.verdict(of: record(.preflight, .fail), command: "preflight", runID: nil) == nil)
        let emergency = Notification.verdict(of: record(.stop, .stopped), command: "stop --emergency", runID: nil)
        #expect(emergency?.key == "phase:stop:emergency:stopped")
        #expect(emergency?.body.contains("reason: disk full") == true)
    }

    @Test("a GO after a NO-GO is sent although the NO-GO was more severe; a second NO-GO within per_key is not")
    func goAfterNoGo() {
        let planner = NotificationPlanner(settings: settings)
        var ledger = NotificationLedger()
        let noGo = Notification.verdict(of: record(.go, .noGo), command: "go", runID: nil)!
        let go = Notification.verdict(of: record(.go, .go), command: "go", runID: nil)!
        #expect(planner.plan([noGo], ledger: &ledger, available: ["log"], now: start).deliveries.count == 1)
        #expect(planner.plan([noGo], ledger: &ledger, available: ["log"], now: start + 60).deliveries.isEmpty)
        #expect(planner.plan([go], ledger: &ledger, available: ["log"], now: start + 120).deliveries.count == 1)
    }
}

@Suite("Alarm ledger changes as notifications")
struct AlarmNotificationTests {
    let alarm = LedgerAlarm(key: "containers", severity: .critical, message: "cdb_core is not running", playbook: "container-crash",
                            firstSeen: start, lastSeen: start + 14_400, cycles: 2, resolvedAt: nil)

    @Test("opened, repeated, worsened and resolved keep the alarm's key and severity; the open alarm escalates under the same key")
    func changes() {
        let opened = Notification(.opened(alarm), at: start, runID: "run-1")
        #expect(opened.kind == .alarmOpened)
        #expect(opened.key == "alarm:containers")
        #expect(opened.alarmName == "containers")
        #expect(opened.severity == .critical)
        #expect(opened.body.contains("cdbctl incident container-crash"))
        #expect(Notification(.repeated(alarm, worsened: true), at: start, runID: nil).title == "Worse: cdb_core is not running")
        let resolved = Notification(.resolved(alarm), at: start + 14_400, runID: nil)
        #expect(resolved.kind == .alarmResolved)
        #expect(resolved.status == "resolved")
        #expect(resolved.severity == .critical)
        #expect(OpenAlarm(alarm) == OpenAlarm(key: "alarm:containers", severity: .critical, title: "cdb_core is not running", openedAt: start))
    }
}
