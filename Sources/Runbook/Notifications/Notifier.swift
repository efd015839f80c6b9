import Foundation

/// How one call of the notifier went: every delivery tried, what was kept back, and the outbox after it.
public struct NotificationReport: Sendable, Codable, Equatable {
    public var attempts: [DeliveryAttempt] = []
    /// Keys not sent again within `per_key`.
    public var suppressed: [String] = []
    /// Notifications held by the rate limit in this call.
    public var held = 0
    /// Channels that failed in this call; a `channelFailed` went to the others.
    public var failedChannels: [String] = []
    public var outboxPending = 0
    public var outboxDropped = 0
    /// Channels whose variables are set to something unusable (`webhook: CDB_NOTIFY_WEBHOOK_URL: expected …`):
    /// skipped, and said every time, as an unset one is not.
    public var unusableChannels: [String] = []
    /// The state file could not be read (the notifier started afresh) or written.
    public var stateProblem: String?

    public init() {}

    /// Whether anything went wrong that the operator should hear about (a warning line, an audit entry).
    public var hasProblems: Bool { !failedChannels.isEmpty || !unusableChannels.isEmpty || stateProblem != nil }

    /// One line for a warning: which channels failed and why, and what waits.
    public var problemSummary: String {
        var parts = failedChannels.map { channel in
            "\(channel): \(attempts.first { $0.channel == channel && !$0.delivered }?.detail ?? "failed")"
        }
        parts += unusableChannels
        if outboxPending > 0 { parts.append("\(outboxPending) in the outbox") }
        if let stateProblem { parts.append(stateProblem) }
        return parts.joined(separator: "; ")
    }

    enum CodingKeys: String, CodingKey {
        case attempts, suppressed, held
        case failedChannels = "failed_channels"
        case outboxPending = "outbox_pending"
        case outboxDropped = "outbox_dropped"
        case unusableChannels = "unusable_channels"
        case stateProblem = "state_problem"
    }
}

/// One notification tried on one channel.
public struct DeliveryAttempt: Sendable, Codable, Equatable {
    public var channel: String
    public var kind: NotificationKind
    public var key: String
    public var delivered: Bool
    /// Where it went (safe to print), or what failed.
    public var detail: String
    /// A delivery from the outbox, tried again.
    public var retry: Bool
}

/// A channel as `cdbctl notify test` shows it: configured or not, and why.
public struct NotificationChannelStatus: Sendable, Codable, Equatable {
    public var name: String
    public var type: String
    public var configured: Bool
    /// A variable set to an unusable value: a configuration error (exit 2).
    public var invalid: Bool
    /// The target (safe to print), or what is missing.
    public var detail: String
}

/// Sends notifications through runbook.yaml's channels: routes by severity, dedupes, rate-limits, escalates open
/// alarms after seed §9.1 and retries failed deliveries, keeping its state in `<reports>/state/notifications.json`
/// (0600). An actor, so two calls in one process never interleave their state; cdbctl's commands run one at a time.
public actor Notifier {
    private let planner: NotificationPlanner
    private let readiness: [String: ChannelReadiness]
    private let transport: NotificationTransport
    private let stateFile: URL

    /// `environment` holds the `.env` values the channels name; `reportsDirectory` the state and the log channel's file.
    public init(settings: NotificationSettings, environment: [String: String], reportsDirectory: URL, project: String = "cdb") {
        planner = NotificationPlanner(settings: settings)
        readiness = Dictionary(uniqueKeysWithValues: settings.channels.map {
            ($0.name, $0.readiness(environment: environment, reportsDirectory: reportsDirectory))
        })
        transport = NotificationTransport(project: project, environment: environment)
        stateFile = reportsDirectory.appendingPathComponent("state/notifications.json")
    }

    /// Every channel of runbook.yaml, configured or not.
    public nonisolated var channels: [NotificationChannelStatus] {
        planner.settings.channels.map { channel in
            switch readiness[channel.name]! {
            case .ready(let endpoint): NotificationChannelStatus(name: channel.name, type: channel.transport.typeName, configured: true, invalid: false, detail: endpoint.target)
            case .notConfigured(let why): NotificationChannelStatus(name: channel.name, type: channel.transport.typeName, configured: false, invalid: false, detail: why)
            case .invalid(let why): NotificationChannelStatus(name: channel.name, type: channel.transport.typeName, configured: false, invalid: true, detail: why)
            }
        }
    }

    /// Sends `notifications` (after the outbox's retries) through the channels their severity reaches.
    public func deliver(_ notifications: [Notification], now: Date) async -> NotificationReport {
        await dispatch(now: now) { ledger, available, report in
            let plan = planner.plan(notifications, ledger: &ledger, available: available, now: now)
            report.suppressed = plan.suppressed.map(\.key)
            report.held = plan.held.count
            return plan.deliveries
        }
    }

    /// Escalates the open alarms past a level's `after` to that level's channels, once per level and alarm.
    public func escalate(open: [OpenAlarm], now: Date) async -> NotificationReport {
        await dispatch(now: now) { ledger, available, _ in
            planner.escalations(open: open, ledger: &ledger, available: available, now: now)
        }
    }

    /// A test notification through every configured channel (or the one named), past dedupe and the rate limit;
    /// nothing goes to the outbox.
    public func test(channel name: String? = nil, now: Date) async -> NotificationReport {
        let notification = Notification(
            kind: .test, severity: .info, key: "test", title: "Test notification from cdbctl",
            body: "Sent by cdbctl notify test to show that this channel reaches the operator.",
            time: now)
        let deliveries = planner.settings.channels
            .filter { (name == nil || $0.name == name) && isAvailable($0.name) }
            .map { PendingDelivery(delivery: NotificationDelivery(notification: notification, channel: $0.name), attempts: 0, lastError: "") }
        var report = NotificationReport()
        let outcomes = await send(deliveries)
        record(outcomes, retries: 0, in: &report)
        report.failedChannels = outcomes.compactMap { $0.error == nil ? nil : $0.attempt.delivery.channel }
        return report
    }

    /// Loads the ledger, retries the outbox, sends what `decide` plans, reports failed channels to the others,
    /// and saves the ledger.
    private func dispatch(now: Date, decide: (inout NotificationLedger, Set<String>, inout NotificationReport) -> [NotificationDelivery]) async -> NotificationReport {
        var report = NotificationReport()
        report.unusableChannels = channels.filter(\.invalid).map { "\($0.name): \($0.detail)" }
        var ledger = loadLedger(&report)
        let available = Set(readiness.compactMap { name, state in if case .ready = state { name } else { nil } })
        let retries = planner.retries(ledger: &ledger, available: available)
        let fresh = decide(&ledger, available, &report)
        let outcomes = await send(retries + fresh.map { PendingDelivery(delivery: $0, attempts: 0, lastError: "") })
        record(outcomes, retries: retries.count, in: &report)
        let failed = planner.settle(outcomes, ledger: &ledger)
        if !failed.isEmpty {
            let notices = planner.failureNotices(failed, pending: ledger.outbox.count, now: now)
            let plan = planner.plan(notices, ledger: &ledger, available: available, excluding: Set(failed.map(\.channel)), now: now)
            let noticeOutcomes = await send(plan.deliveries.map { PendingDelivery(delivery: $0, attempts: 0, lastError: "") })
            record(noticeOutcomes, retries: 0, in: &report)
            // A failed notice waits in the outbox like anything else, but raises no notice about itself.
            let noticeFailures = planner.settle(noticeOutcomes, ledger: &ledger)
            report.failedChannels = (failed + noticeFailures).map(\.channel).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        }
        report.outboxPending = ledger.outbox.count
        report.outboxDropped = ledger.outboxDropped
        saveLedger(ledger, &report)
        return report
    }

    private func isAvailable(_ channel: String) -> Bool {
        if case .ready = readiness[channel] { true } else { false }
    }

    /// Sends every channel's deliveries in order, the channels at once; after a channel's first failure the rest of
    /// its deliveries wait for the next call (a dead receiver costs one timeout per cycle, not one per delivery).
    private func send(_ attempts: [PendingDelivery]) async -> [(attempt: PendingDelivery, error: String?)] {
        let byChannel = Dictionary(grouping: attempts.enumerated(), by: { $0.element.delivery.channel })
        var outcomes = [(attempt: PendingDelivery, error: String?)?](repeating: nil, count: attempts.count)
        let transport = transport
        let endpoints = readiness
        await withTaskGroup(of: [(Int, String?)].self) { group in
            for (channel, items) in byChannel {
                guard case .ready(let endpoint)? = endpoints[channel] else { continue }
                group.addTask {
                    var results: [(Int, String?)] = []
                    var firstError: String?
                    for (index, attempt) in items {
                        if let firstError {
                            results.append((index, "not tried after the channel failed: \(firstError)"))
                            continue
                        }
                        let error = await transport.send(attempt.delivery, to: endpoint)
                        firstError = error
                        results.append((index, error))
                    }
                    return results
                }
            }
            for await results in group {
                for (index, error) in results { outcomes[index] = (attempts[index], error) }
            }
        }
        return outcomes.compactMap { $0 }
    }

    private func record(_ outcomes: [(attempt: PendingDelivery, error: String?)], retries: Int, in report: inout NotificationReport) {
        for (position, outcome) in outcomes.enumerated() {
            let delivery = outcome.attempt.delivery
            let target: String
            if case .ready(let endpoint)? = readiness[delivery.channel] { target = endpoint.target } else { target = "" }
            report.attempts.append(DeliveryAttempt(channel: delivery.channel, kind: delivery.notification.kind, key: delivery.notification.key,
                                                   delivered: outcome.error == nil, detail: outcome.error ?? target,
                                                   retry: position < retries))
        }
    }

    private func loadLedger(_ report: inout NotificationReport) -> NotificationLedger {
        guard let data = FileManager.default.contents(atPath: stateFile.path) else { return NotificationLedger() }
        do {
            return try ReportsDirectory.decoder.decode(NotificationLedger.self, from: data)
        } catch {
            // Notifying matters more than the old dedupe state: start afresh and say so.
            report.stateProblem = "\(stateFile.path): unreadable, started afresh (\(error))"
            return NotificationLedger()
        }
    }

    private func saveLedger(_ ledger: NotificationLedger, _ report: inout NotificationReport) {
        do {
            try OperatorFiles.createPrivateDirectory(stateFile.deletingLastPathComponent().path)
            try OperatorFiles.writePrivateFile(try ReportsDirectory.encoder.encode(ledger), to: stateFile.path)
        } catch {
            report.stateProblem = "\(error)"
        }
    }

}
