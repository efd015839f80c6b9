import Foundation
import YAMLParser

/// runbook.yaml's `notifications:`: where notifications go, when an open alarm escalates, how often a key may repeat.
/// The file names the `.env` variables a channel reads, never their values.
public struct NotificationSettings: Sendable {
    public var channels: [NotificationChannel]
    /// After seed §9.1: L1 gets every notification through the channels' severities; the levels here follow.
    public var escalation: [EscalationLevel]
    public var rateLimit: NotificationRateLimit

    public init(channels: [NotificationChannel], escalation: [EscalationLevel] = [], rateLimit: NotificationRateLimit = NotificationRateLimit()) {
        self.channels = channels
        self.escalation = escalation
        self.rateLimit = rateLimit
    }

    public func channel(named name: String) -> NotificationChannel? {
        channels.first { $0.name == name }
    }
}

/// One way to reach the operator.
public struct NotificationChannel: Sendable, Equatable {
    public var name: String
    public var minSeverity: NotificationSeverity
    public var transport: NotificationTransportKind

    public init(name: String, minSeverity: NotificationSeverity, transport: NotificationTransportKind) {
        self.name = name
        self.minSeverity = minSeverity
        self.transport = transport
    }
}

/// A channel's transport and the `.env` variables it reads.
public enum NotificationTransportKind: Sendable, Equatable {
    /// JSON POST to the URL in `urlVariable` (the URL often holds a token: it is never printed whole).
    case webhook(urlVariable: String)
    case email(EmailVariables)
    /// JSON lines appended to this file under the reports directory, created 0600.
    case log(file: String)

    public var typeName: String {
        switch self {
        case .webhook: "webhook"
        case .email: "email"
        case .log: "log"
        }
    }
}

/// The `.env` variables an e-mail channel reads.
public struct EmailVariables: Sendable, Equatable {
    public var smtpURL = "CDB_NOTIFY_SMTP_URL"
    public var user = "CDB_NOTIFY_SMTP_USER"
    public var password = "CDB_NOTIFY_SMTP_PASSWORD"
    public var from = "CDB_NOTIFY_EMAIL_FROM"
    /// A comma-separated list of addresses.
    public var to = "CDB_NOTIFY_EMAIL_TO"

    public init() {}
}

/// A level of seed §9.1's chain: an alarm still open `after` its opening goes to these channels, once.
public struct EscalationLevel: Sendable, Equatable {
    /// `L2`, `L3`: the chain's name for the level.
    public var level: String
    /// Who the level is (seed §9.1's role), for the message.
    public var role: String
    public var after: Duration
    public var channels: [String]
    /// The variable with the level's own e-mail recipients (comma list); unset: the channels' usual recipients.
    public var recipientsVariable: String?

    public init(level: String, role: String, after: Duration, channels: [String], recipientsVariable: String? = nil) {
        self.level = level
        self.role = role
        self.after = after
        self.channels = channels
        self.recipientsVariable = recipientsVariable
    }
}

/// How often notifications may go out.
public struct NotificationRateLimit: Sendable, Equatable {
    /// The same key is not sent again within this unless its severity rose or it resolved.
    public var perKey: Duration
    /// Beyond this many in the trailing hour notifications are held and summarised in one message later.
    public var maxPerHour: Int

    public init(perKey: Duration = .seconds(3600), maxPerHour: Int = 30) {
        self.perKey = perKey
        self.maxPerHour = maxPerHour
    }
}

extension RunbookDecoder {
    static let notificationKeys = ["channels", "escalation", "rate_limit"]
    static let channelKeys = ["name", "type", "min_severity", "url_env", "smtp_url_env", "user_env", "password_env", "from_env", "to_env", "file"]
    /// The keys each transport reads beside name, type and min_severity.
    static let transportKeys: [String: [String]] = [
        "webhook": ["url_env"], "email": ["smtp_url_env", "user_env", "password_env", "from_env", "to_env"], "log": ["file"],
    ]

    /// `notifications:`; nil when the file has none (then nothing is sent).
    func decodeNotifications(_ node: YAMLNode?) -> NotificationSettings? {
        guard let node, let reader = context.mapping(node, what: "notifications", allowedKeys: Self.notificationKeys) else { return nil }
        var settings = NotificationSettings(channels: [])
        if let channelsNode = reader.requiredNode("channels"), let items = context.sequence(channelsNode, what: "notifications.channels") {
            var seen: [String: YAMLMark] = [:]
            for item in items {
                guard let channel = decodeChannel(item) else { continue }
                if let first = seen[channel.name] {
                    context.error("notifications.channels: duplicate channel '\(channel.name)' (first at \(first))", at: item.mark)
                }
                seen[channel.name] = item.mark
                settings.channels.append(channel)
            }
        }
        if let escalationNode = reader["escalation"], let items = context.sequence(escalationNode, what: "notifications.escalation") {
            let names = settings.channels.map(\.name)
            for item in items {
                guard let level = decodeEscalationLevel(item, channels: names) else { continue }
                if let previous = settings.escalation.last, level.after <= previous.after {
                    context.error("notifications.escalation.\(level.level).after: must be later than \(previous.level)'s", at: item["after"]?.mark ?? item.mark)
                }
                settings.escalation.append(level)
            }
        }
        if let limitNode = reader["rate_limit"],
           let limit = context.mapping(limitNode, what: "notifications.rate_limit", allowedKeys: ["per_key", "max_per_hour"]) {
            if let value = limit.optional("per_key", as: Duration.self) { settings.rateLimit.perKey = value }
            if let value = limit.optional("max_per_hour", as: Int.self) {
                if value < 1 { context.error("notifications.rate_limit.max_per_hour: must be at least 1, got \(value)", at: limit["max_per_hour"]!.mark) }
                settings.rateLimit.maxPerHour = max(1, value)
            }
        }
        return settings
    }

    private func decodeChannel(_ node: YAMLNode) -> NotificationChannel? {
        let label = "notifications.channels.\(node["name"]?.scalar ?? "?")"
        guard let reader = context.mapping(node, what: label, allowedKeys: Self.channelKeys) else { return nil }
        let name = reader.required("name", as: String.self)
        if let name, name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
            context.error("\(label).name: letters, digits, '_' and '-' only, got '\(name)'", at: reader["name"]!.mark)
        }
        let type = reader.required("type", as: String.self)
        let minSeverity = reader.optional("min_severity", as: NotificationSeverity.self) ?? .info
        guard let type else { return nil }
        guard let ownKeys = Self.transportKeys[type] else {
            var message = "\(label).type: unknown channel type '\(type)' (webhook, email or log)"
            if let suggestion = closestMatch(to: type, among: Self.transportKeys.keys.sorted()) { message += " (did you mean '\(suggestion)'?)" }
            context.error(message, at: reader["type"]!.mark)
            return nil
        }
        for pair in reader.pairs {
            guard let key = pair.key.scalar, Self.channelKeys.contains(key), !["name", "type", "min_severity"].contains(key), !ownKeys.contains(key) else { continue }
            context.error("\(label).\(key): not a key of \(type) channels (\(ownKeys.joined(separator: ", ")))", at: pair.key.mark)
        }
        let transport: NotificationTransportKind
        switch type {
        case "webhook":
            transport = .webhook(urlVariable: variableName(reader, "url_env", label: label) ?? "CDB_NOTIFY_WEBHOOK_URL")
        case "email":
            var variables = EmailVariables()
            if let value = variableName(reader, "smtp_url_env", label: label) { variables.smtpURL = value }
            if let value = variableName(reader, "user_env", label: label) { variables.user = value }
            if let value = variableName(reader, "password_env", label: label) { variables.password = value }
            if let value = variableName(reader, "from_env", label: label) { variables.from = value }
            if let value = variableName(reader, "to_env", label: label) { variables.to = value }
            transport = .email(variables)
        default:
            let file = reader.optional("file", as: String.self) ?? "notifications.jsonl"
            // The file stays under the reports directory: no absolute path, no way up.
            if file.isEmpty || file.hasPrefix("/") || file.split(separator: "/").contains("..") {
                context.error("\(label).file: a path inside the reports directory, got '\(file)'", at: reader["file"]!.mark)
            }
            transport = .log(file: file)
        }
        guard let name else { return nil }
        return NotificationChannel(name: name, minSeverity: minSeverity, transport: transport)
    }

    /// A `*_env` key: the name of a variable (never a value, so a URL or address put here by mistake is refused).
    private func variableName(_ reader: YAMLMappingReader, _ key: String, label: String) -> String? {
        guard let name = reader.optional(key, as: String.self) else { return nil }
        guard isVariableName(name) else {
            context.error("\(label).\(key): the name of a .env variable (A-Z, 0-9, _), got a value; put the value in .env", at: reader[key]!.mark)
            return nil
        }
        return name
    }

    private func decodeEscalationLevel(_ node: YAMLNode, channels: [String]) -> EscalationLevel? {
        let label = "notifications.escalation.\(node["level"]?.scalar ?? "?")"
        guard let reader = context.mapping(node, what: label, allowedKeys: ["level", "role", "after", "channels", "to_env"]) else { return nil }
        let level = reader.required("level", as: String.self)
        let role = reader.optional("role", as: String.self) ?? ""
        let after = reader.required("after", as: Duration.self)
        if let after, after <= .zero { context.error("\(label).after: must be longer than 0s", at: reader["after"]!.mark) }
        var names: [String] = []
        if let node = reader.requiredNode("channels"), let items = context.sequence(node, what: "\(label).channels") {
            for item in items {
                guard let name = context.scalar(item, as: String.self, what: "\(label).channels") else { continue }
                if !channels.contains(name) {
                    var message = "\(label).channels: unknown channel '\(name)'"
                    if let suggestion = closestMatch(to: name, among: channels) { message += " (did you mean '\(suggestion)'?)" }
                    context.error(message, at: item.mark)
                }
                names.append(name)
            }
            if items.isEmpty { context.error("\(label).channels: name at least one channel", at: node.mark) }
        }
        var recipients: String?
        if let name = reader.optional("to_env", as: String.self) {
            if isVariableName(name) { recipients = name } else {
                context.error("\(label).to_env: the name of a .env variable (A-Z, 0-9, _), got a value; put the value in .env", at: reader["to_env"]!.mark)
            }
        }
        guard let level, let after else { return nil }
        return EscalationLevel(level: level, role: role, after: after, channels: names, recipientsVariable: recipients)
    }

    private func isVariableName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || ("A"..."Z").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }
}

extension NotificationSeverity: YAMLScalarDecodable {
    public init?(yamlScalar text: String) { self.init(rawValue: text) }
    public static var yamlTypeName: String { "info, warning or critical" }
}
