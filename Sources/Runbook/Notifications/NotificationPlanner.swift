import Foundation
import Primitives

/// What the notifier remembers between runs (`<reports>/state/notifications.json`): what each key last sent, the
/// trailing hour's sends, what the rate limit held, the deliveries still to retry and how far each open alarm escalated.
public struct NotificationLedger: Sendable, Codable, Equatable {
    /// The last notification sent per key.
    public var keys: [String: SentKey] = [:]
    /// When notifications went out within the last hour (the rate limit counts them).
    public var sentTimes: [Date] = []
    public var held = HeldNotifications()
    /// Deliveries that failed, oldest first, retried at the next `deliver`.
    public var outbox: [PendingDelivery] = []
    /// How many pending deliveries were dropped because the outbox was full.
    public var outboxDropped = 0
    /// The escalation levels each open alarm has reached.
    public var escalated: [String: [String]] = [:]

    public init() {}

    enum CodingKeys: String, CodingKey {
        case keys, held, outbox, escalated
        case sentTimes = "sent_times"
        case outboxDropped = "outbox_dropped"
    }
}

/// A key's last notification: when, how severe, and whether it was the resolution.
public struct SentKey: Sendable, Codable, Equatable {
    public var time: Date
    public var severity: NotificationSeverity
    public var resolved: Bool
}

/// What the rate limit held back since the last summary.
public struct HeldNotifications: Sendable, Codable, Equatable {
    public var count = 0
    public var severity = NotificationSeverity.info
    /// The keys held, each once, in order.
    public var keys: [String] = []
}

/// One notification for one channel; `recipientsVariable` is an escalation level's own e-mail recipients.
public struct NotificationDelivery: Sendable, Codable, Equatable {
    public var notification: Notification
    public var channel: String
    public var recipientsVariable: String?

    public init(notification: Notification, channel: String, recipientsVariable: String? = nil) {
        self.notification = notification
        self.channel = channel
        self.recipientsVariable = recipientsVariable
    }

    enum CodingKeys: String, CodingKey {
        case notification, channel
        case recipientsVariable = "recipients_variable"
    }
}

/// A delivery that failed and waits in the outbox.
public struct PendingDelivery: Sendable, Codable, Equatable {
    public var delivery: NotificationDelivery
    public var attempts: Int
    public var lastError: String

    enum CodingKeys: String, CodingKey {
        case delivery, attempts
        case lastError = "last_error"
    }
}

/// What one call decided to send: the admitted notifications on their channels, and what it kept back.
struct NotificationPlan: Equatable {
    var deliveries: [NotificationDelivery] = []
    /// Not sent: the same key within `per_key` at no higher severity.
    var suppressed: [Notification] = []
    /// Not sent yet: beyond `max_per_hour`.
    var held: [Notification] = []
}

/// The notifier's decisions, without I/O: routing by severity, dedupe, the rate limit, escalation and the outbox.
/// Every function takes the ledger and the time, so a test drives it through days in microseconds.
struct NotificationPlanner {
    let settings: NotificationSettings
    /// The outbox keeps the newest this many; a receiver down for days must not grow the state file without end.
    static let outboxLimit = 200

    /// Takes the outbox's deliveries for the channels in `available` out of the ledger, oldest first, to be sent
    /// again; those of a channel not configured now stay. A channel removed from runbook.yaml can never take its
    /// pending deliveries: they are dropped, and counted.
    func retries(ledger: inout NotificationLedger, available: Set<String>) -> [PendingDelivery] {
        let known = Set(settings.channels.map(\.name))
        ledger.outboxDropped += ledger.outbox.count { !known.contains($0.delivery.channel) }
        let kept = ledger.outbox.filter { known.contains($0.delivery.channel) }
        ledger.outbox = kept.filter { !available.contains($0.delivery.channel) }
        return kept.filter { available.contains($0.delivery.channel) }
    }

    /// `notifications` admitted (dedupe, rate limit) and routed to the channels in `available` less `excluding`.
    func plan(_ notifications: [Notification], ledger: inout NotificationLedger, available: Set<String>, excluding: Set<String> = [],
              now: Date) -> NotificationPlan {
        var plan = NotificationPlan()
        let admitted = admit(notifications, ledger: &ledger, now: now, plan: &plan)
        for notification in admitted {
            for channel in route(notification, available: available.subtracting(excluding)) {
                plan.deliveries.append(NotificationDelivery(notification: notification, channel: channel))
            }
        }
        return plan
    }

    /// The channels that take `notification`: those at or below its severity, among `available`.
    func route(_ notification: Notification, available: Set<String>) -> [String] {
        settings.channels.filter { available.contains($0.name) && $0.minSeverity <= notification.severity }.map(\.name)
    }

    /// Dedupe and rate limit, in that order (a duplicate does not use up the hour); the held summary goes first once
    /// the hour has room. Test notifications pass untouched.
    private func admit(_ notifications: [Notification], ledger: inout NotificationLedger, now: Date, plan: inout NotificationPlan) -> [Notification] {
        let limit = settings.rateLimit
        ledger.sentTimes.removeAll { now.timeIntervalSince($0) >= 3600 }
        var admitted: [Notification] = []
        if ledger.held.count > 0, ledger.sentTimes.count < limit.maxPerHour {
            admitted.append(heldSummary(ledger.held, now: now))
            ledger.sentTimes.append(now)
            ledger.held = HeldNotifications()
        }
        for notification in notifications {
            if notification.kind == .test {
                admitted.append(notification)
                continue
            }
            if isRepeat(notification, of: ledger.keys[notification.key], now: now) {
                plan.suppressed.append(notification)
                continue
            }
            guard ledger.sentTimes.count < limit.maxPerHour else {
                plan.held.append(notification)
                ledger.held.count += 1
                ledger.held.severity = max(ledger.held.severity, notification.severity)
                if !ledger.held.keys.contains(notification.key) { ledger.held.keys.append(notification.key) }
                continue
            }
            ledger.sentTimes.append(now)
            ledger.keys[notification.key] = SentKey(time: now, severity: notification.severity, resolved: notification.kind == .alarmResolved)
            admitted.append(notification)
        }
        // Keys quiet for longer than per_key decide nothing any more.
        ledger.keys = ledger.keys.filter { now.timeIntervalSince($0.value.time) < limit.perKey.seconds }
        return admitted
    }

    /// The same key again within `per_key`, neither more severe nor a change between open and resolved.
    private func isRepeat(_ notification: Notification, of last: SentKey?, now: Date) -> Bool {
        guard let last, now.timeIntervalSince(last.time) < settings.rateLimit.perKey.seconds else { return false }
        let resolves = notification.kind == .alarmResolved
        if resolves != last.resolved { return false }
        return notification.severity <= last.severity
    }

    private func heldSummary(_ held: HeldNotifications, now: Date) -> Notification {
        let shown = held.keys.prefix(10).joined(separator: ", ") + (held.keys.count > 10 ? ", …" : "")
        return Notification(kind: .held, severity: held.severity, key: "notifications:held",
                            title: "\(held.count) notifications held by the rate limit",
                            body: "More than \(settings.rateLimit.maxPerHour) notifications within an hour; held: \(shown). See cdbctl monitor and reports/ for their state.",
                            time: now)
    }

    /// Open alarms past a level's `after` that have not reached it yet, one delivery per level's available channel;
    /// alarms no longer open are forgotten, so the chain starts over when one opens again.
    func escalations(open: [OpenAlarm], ledger: inout NotificationLedger, available: Set<String>, now: Date) -> [NotificationDelivery] {
        let openKeys = Set(open.map(\.key))
        ledger.escalated = ledger.escalated.filter { openKeys.contains($0.key) }
        var deliveries: [NotificationDelivery] = []
        for alarm in open {
            let age = now.timeIntervalSince(alarm.openedAt)
            for level in settings.escalation where age >= level.after.seconds && !(ledger.escalated[alarm.key] ?? []).contains(level.level) {
                ledger.escalated[alarm.key, default: []].append(level.level)
                let role = level.role.isEmpty ? "" : " (\(level.role))"
                let notification = Notification(
                    kind: .alarmEscalated, severity: alarm.severity, key: alarm.key,
                    title: "\(level.level)\(role): \(alarm.title)",
                    body: "Open for \(Self.minutes(age)) (since \(ISO8601DateFormatter().string(from: alarm.openedAt))), past \(level.level)'s \(Self.minutes(level.after.seconds)): escalated to \(level.level)\(role) after seed §9.1.",
                    time: now)
                for channel in level.channels where available.contains(channel) {
                    deliveries.append(NotificationDelivery(notification: notification, channel: channel, recipientsVariable: level.recipientsVariable))
                }
                ledger.sentTimes.append(now)
            }
        }
        return deliveries
    }

    /// Records how the deliveries went: failures go to the outbox (bounded, oldest dropped). Returns each failed
    /// channel with its first error.
    func settle(_ outcomes: [(attempt: PendingDelivery, error: String?)], ledger: inout NotificationLedger) -> [(channel: String, error: String)] {
        var failed: [(channel: String, error: String)] = []
        for outcome in outcomes {
            guard let error = outcome.error else { continue }
            var pending = outcome.attempt
            pending.attempts += 1
            pending.lastError = error
            ledger.outbox.append(pending)
            if !failed.contains(where: { $0.channel == pending.delivery.channel }) { failed.append((pending.delivery.channel, error)) }
        }
        if ledger.outbox.count > Self.outboxLimit {
            let excess = ledger.outbox.count - Self.outboxLimit
            ledger.outbox.removeFirst(excess)
            ledger.outboxDropped += excess
        }
        return failed
    }

    /// One `channelFailed` notification per failed channel, for the other channels.
    func failureNotices(_ failed: [(channel: String, error: String)], pending: Int, now: Date) -> [Notification] {
        failed.map { failure in
            Notification(kind: .channelFailed, severity: .warning, key: "channel:\(failure.channel)",
                         title: "Notification channel '\(failure.channel)' failed",
                         body: "\(failure.error). \(pending) deliveries wait in the outbox and are retried at the next notification.",
                         time: now)
        }
    }

    private static func minutes(_ seconds: Double) -> String {
        let minutes = Int(seconds / 60)
        return minutes >= 120 ? "\(minutes / 60) h \(minutes % 60) min" : "\(minutes) min"
    }
}
