import Foundation
import HTTPClient

/// The webhook's JSON body (and the log channel's line): Alertmanager's grouping fields (`alarm`, `status`,
/// `severity`) with the notification itself. Version 1; fields are only ever added.
struct NotificationPayload: Codable, Equatable {
    var version = 1
    var source = "cdbctl"
    var kind: NotificationKind
    /// The alarm's name as monitor and Prometheus' rules call it (`containers`); other keys as they are (`phase:go`).
    var alarm: String
    var key: String
    var severity: NotificationSeverity
    /// `firing` or `resolved`, as Alertmanager says it.
    var status: String
    var title: String
    var body: String
    var time: Date
    var runID: String?
    /// The log channel's line also names the channel; the webhook leaves it out.
    var channel: String?

    init(_ notification: Notification, channel: String? = nil) {
        kind = notification.kind
        alarm = notification.alarmName
        key = notification.key
        severity = notification.severity
        status = notification.status
        title = notification.title
        body = notification.body
        time = notification.time
        runID = notification.runID
        self.channel = channel
    }

    enum CodingKeys: String, CodingKey {
        case version, source, kind, alarm, key, severity, status, title, body, time, channel
        case runID = "run_id"
    }

    /// Compact, key-sorted JSON; `run_id` is written as null when there is none, so receivers see every field.
    func encoded() -> [UInt8] {
        var object = (try? JSONSerialization.jsonObject(with: Self.encoder.encode(self))) as? [String: Any] ?? [:]
        if runID == nil { object["run_id"] = NSNull() }
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
}

/// An RFC 5322 message: the headers a mail client needs, a UTF-8 plain-text body, CRLF line ends.
enum MailMessage {
    static func render(_ notification: Notification, from: String, to: [String], project: String, messageID: String = UUID().uuidString) -> [UInt8] {
        let domain = from.split(separator: "@").last.map(String.init) ?? "localhost"
        let subject = "[\(project) \(notification.severity.rawValue.uppercased())] \(notification.title)"
        var body = notification.body
        body += "\n\n--\nkind: \(notification.kind.rawValue)\nkey: \(notification.key)\ntime: \(ISO8601DateFormatter().string(from: notification.time))"
        if let run = notification.runID { body += "\nrun: \(run)" }
        let headers = [
            "Date: \(dateFormatter.string(from: notification.time))",
            "From: \(from)",
            "To: \(to.joined(separator: ", "))",
            "Subject: \(encodedHeader(subject))",
            "Message-ID: <\(messageID)@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        let lines = headers + [""] + body.split(separator: "\n", omittingEmptySubsequences: false).map { $0.replacingOccurrences(of: "\r", with: "") }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// A header value on one line (a title with a line break must not start a header of its own), RFC 2047
    /// encoded when it is not plain ASCII.
    static func encodedHeader(_ text: String) -> String {
        let line = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        guard line.unicodeScalars.contains(where: { !$0.isASCII }) else { return line }
        return "=?utf-8?B?\(Data(line.utf8).base64EncodedString())?="
    }

    /// RFC 5322's date-time, in UTC.
    static let dateFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter
    }()
}

/// Sends one delivery over its channel's transport; the only I/O the notifier does besides its state file.
struct NotificationTransport: Sendable {
    var http = HTTPClient()
    /// The compose project, for the e-mail subject.
    var project: String
    var environment: [String: String]
    /// A dead receiver must not hang a cron cycle.
    static let connectTimeout = Duration.seconds(5)
    static let timeout = Duration.seconds(15)

    /// Whether the URL's host is this machine: a password may go there without TLS (a local relay), nowhere else.
    static func isLoopback(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host?.lowercased() else { return false }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        let inLoopbackNet = octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
        return host == "localhost" || host == "::1" || host == "[::1]" || inLoopbackNet
    }

    /// Sends; nil when delivered, else what failed (never a secret: no password, no webhook path).
    func send(_ delivery: NotificationDelivery, to endpoint: ChannelEndpoint) async -> String? {
        switch endpoint {
        case .webhook(let url):
            let request = HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")],
                                      body: NotificationPayload(delivery.notification).encoded(),
                                      connectTimeout: Self.connectTimeout, timeout: Self.timeout)
            do {
                let response = try await http.send(request)
                return (200..<300).contains(response.status) ? nil : "\(HTTPClient.serverName(url)) answered \(response.status)"
            } catch {
                return "\(HTTPClient.serverName(url)): \(error.message) (curl error \(error.code))"
            }
        case .email(let endpoint):
            let recipients = endpoint.recipients(escalatedBy: delivery.recipientsVariable, environment: environment)
            let message = MailMessage.render(delivery.notification, from: endpoint.from, to: recipients, project: project)
            do {
                try await http.sendMail(MailRequest(url: endpoint.smtpURL, username: endpoint.username, password: endpoint.password,
                                                    from: endpoint.from, recipients: recipients, message: message,
                                                    connectTimeout: Self.connectTimeout, timeout: Self.timeout,
                                                    requireTLS: endpoint.password != nil && !Self.isLoopback(endpoint.smtpURL)))
                return nil
            } catch {
                return error.description
            }
        case .log(let file):
            var line = NotificationPayload(delivery.notification, channel: delivery.channel).encoded()
            line.append(UInt8(ascii: "\n"))
            // Private like every file under reports/: notifications can name what is wrong with the stack.
            do {
                try OperatorFiles.createPrivateDirectory(file.deletingLastPathComponent().path)
                try OperatorFiles.appendPrivateLine(Data(line), to: file.path)
                return nil
            } catch {
                return "\(error)"
            }
        }
    }
}
