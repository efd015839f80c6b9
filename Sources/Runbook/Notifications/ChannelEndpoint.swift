import Foundation
import HTTPClient

/// A channel with its `.env` values read: where exactly it sends. Holds secrets; never printed whole (`target`).
enum ChannelEndpoint: Sendable {
    case webhook(url: String)
    case email(EmailEndpoint)
    case log(URL)

    /// Where it sends, safe to print: the webhook's scheme and host only (its path often is the token), the SMTP
    /// server and recipients, the log file.
    var target: String {
        switch self {
        case .webhook(let url): HTTPClient.serverName(url)
        case .email(let endpoint): "\(HTTPClient.serverName(endpoint.smtpURL)) → \(endpoint.recipients.joined(separator: ", "))"
        case .log(let file): file.path
        }
    }
}

/// An e-mail channel's server, credentials and addresses.
struct EmailEndpoint: Sendable {
    var smtpURL: String
    var username: String?
    var password: String?
    var from: String
    var recipients: [String]

    /// An escalation level's own recipients (the addresses in `variable`) where it names some, else the channel's.
    func recipients(escalatedBy variable: String?, environment: [String: String]) -> [String] {
        guard let variable, let list = environment[variable] else { return recipients }
        let own = NotificationChannel.addresses(list).filter(NotificationChannel.isAddress)
        return own.isEmpty ? recipients : own
    }
}

/// Whether a channel can send, and if not, why.
enum ChannelReadiness: Sendable {
    case ready(ChannelEndpoint)
    /// Its variables are unset: skipped quietly, shown by `cdbctl notify test`.
    case notConfigured(String)
    /// A variable is set to something unusable (a URL of the wrong scheme): a configuration error.
    case invalid(String)
}

extension NotificationChannel {
    /// Reads the channel's variables from `environment` (an empty value is unset, as everywhere in `.env`).
    func readiness(environment: [String: String], reportsDirectory: URL) -> ChannelReadiness {
        func value(_ name: String) -> String? {
            environment[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        switch transport {
        case .log(let file):
            return .ready(.log(reportsDirectory.appendingPathComponent(file)))
        case .webhook(let variable):
            guard let url = value(variable) else { return .notConfigured("\(variable) is not set") }
            guard let scheme = URLComponents(string: url)?.scheme, ["http", "https"].contains(scheme.lowercased()), URLComponents(string: url)?.host != nil else {
                return .invalid("\(variable): expected an http:// or https:// URL")
            }
            return .ready(.webhook(url: url))
        case .email(let variables):
            let missing = [variables.smtpURL, variables.from, variables.to].filter { value($0) == nil }
            guard missing.isEmpty, let url = value(variables.smtpURL), let from = value(variables.from), let to = value(variables.to) else {
                return .notConfigured("\(missing.joined(separator: ", ")) \(missing.count == 1 ? "is" : "are") not set")
            }
            guard let scheme = URLComponents(string: url)?.scheme, ["smtp", "smtps"].contains(scheme.lowercased()), URLComponents(string: url)?.host != nil else {
                return .invalid("\(variables.smtpURL): expected an smtp:// or smtps:// URL")
            }
            if URLComponents(string: url)?.user != nil {
                return .invalid("\(variables.smtpURL): put the user and password in \(variables.user) and \(variables.password), not in the URL")
            }
            let recipients = Self.addresses(to)
            if let bad = ([from] + recipients).first(where: { !Self.isAddress($0) }) {
                return .invalid("\(bad == from ? variables.from : variables.to): '\(bad)' is not an e-mail address")
            }
            return .ready(.email(EmailEndpoint(smtpURL: url, username: value(variables.user), password: value(variables.password),
                                               from: from, recipients: recipients)))
        }
    }

    /// A comma-separated list of addresses.
    static func addresses(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A bare `local@domain`: nothing that could end a header or an SMTP command.
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && !text.contains { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," || $0.isNewline }
    }
}
