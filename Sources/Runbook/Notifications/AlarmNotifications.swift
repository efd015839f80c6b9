import Foundation

// The alarm ledger's changes as notifications, for the monitor cycle to hand to `Notifier.deliver` (and its open
// alarms to `Notifier.escalate`). The key is `alarm:<ledger key>`, so the webhook's `alarm` is the monitor step's id.

extension NotificationSeverity {
    /// A runbook step's severity (critical or warning) as a notification's.
    public init(_ severity: Severity) {
        switch severity {
        case .critical: self = .critical
        case .warning: self = .warning
        }
    }
}

extension Notification {
    /// What an alarm's change tells the operator. A resolution keeps the alarm's severity, so it reaches every
    /// channel its opening reached.
    public init(_ change: AlarmChange, at time: Date, runID: String?) {
        let alarm = change.alarm
        let kind: NotificationKind
        let title: String
        switch change {
        case .opened:
            (kind, title) = (.alarmOpened, alarm.message)
        case .repeated(_, let worsened):
            (kind, title) = (.alarmRepeated, worsened ? "Worse: \(alarm.message)" : "Still open: \(alarm.message)")
        case .resolved:
            (kind, title) = (.alarmResolved, "Resolved: \(alarm.message)")
        }
        var body = "\(alarm.key) (\(alarm.severity.rawValue)): \(alarm.message). Seen in \(alarm.cycles) cycle\(alarm.cycles == 1 ? "" : "s") since \(ISO8601DateFormatter().string(from: alarm.firstSeen))."
        if let playbook = alarm.playbook { body += " Playbook: cdbctl incident \(playbook)." }
        self.init(kind: kind, severity: NotificationSeverity(alarm.severity), key: "alarm:\(alarm.key)", title: title, body: body,
                  time: time, runID: runID)
    }
}

extension OpenAlarm {
    /// An open alarm of the ledger, for escalation.
    public init(_ alarm: LedgerAlarm) {
        self.init(key: "alarm:\(alarm.key)", severity: NotificationSeverity(alarm.severity), title: alarm.message, openedAt: alarm.firstSeen)
    }
}
