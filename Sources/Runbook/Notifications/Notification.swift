import Foundation

/// How urgently a notification wants the operator: channels take those at or above their `min_severity`.
public enum NotificationSeverity: String, Sendable, Codable, CaseIterable, Comparable {
    case info, warning, critical

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// What happened, as a receiver groups it (`kind` in the webhook payload).
public enum NotificationKind: String, Sendable, Codable, CaseIterable {
    case alarmOpened = "alarm_opened"
    case alarmRepeated = "alarm_repeated"
    case alarmResolved = "alarm_resolved"
    case alarmEscalated = "alarm_escalated"
    case incident
    case go
    case noGo = "no_go"
    case started
    case stopped
    case dailySummary = "daily_summary"
    /// A channel could not deliver; sent through the other channels.
    case channelFailed = "channel_failed"
    /// The rate limit held notifications back: how many, sent once the hour has room again.
    case held
    /// `cdbctl notify test`.
    case test
}

/// One message for the operator. `key` identifies what it is about (`alarm:containers`, `phase:go`): the same key
/// is not sent again within the rate limit's `per_key` unless its severity rose or it resolved. Outside this module
/// Foundation's `Notification` shares the name: `import struct Runbook.Notification` says which one a file means.
public struct Notification: Sendable, Codable, Equatable {
    public var kind: NotificationKind
    public var severity: NotificationSeverity
    public var key: String
    public var title: String
    public var body: String
    public var time: Date
    public var runID: String?

    public init(kind: NotificationKind, severity: NotificationSeverity, key: String, title: String, body: String, time: Date, runID: String? = nil) {
        self.kind = kind
        self.severity = severity
        self.key = key
        self.title = title
        self.body = body
        self.time = time
        self.runID = runID
    }

    enum CodingKeys: String, CodingKey {
        case kind, severity, key, title, body, time
        case runID = "run_id"
    }

    /// The alarm's name as monitor and Prometheus' rules call it (`alarm:containers` → `containers`); other keys as they are.
    public var alarmName: String {
        key.hasPrefix("alarm:") ? String(key.dropFirst("alarm:".count)) : key
    }

    /// Alertmanager's status: only a resolved alarm is `resolved`.
    public var status: String { kind == .alarmResolved ? "resolved" : "firing" }
}

/// An alarm still open, as the alarm ledger passes it to `Notifier.escalate` every cycle.
public struct OpenAlarm: Sendable, Codable, Equatable {
    public var key: String
    public var severity: NotificationSeverity
    public var title: String
    public var openedAt: Date

    public init(key: String, severity: NotificationSeverity, title: String, openedAt: Date) {
        self.key = key
        self.severity = severity
        self.title = title
        self.openedAt = openedAt
    }

    enum CodingKeys: String, CodingKey {
        case key, severity, title
        case openedAt = "opened_at"
    }
}
