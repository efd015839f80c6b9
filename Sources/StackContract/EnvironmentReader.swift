#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlainText

/// Every missing or invalid environment variable of a service, reported together.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var problems: [String]

    public init(problems: [String]) {
        self.problems = problems
    }

    public var description: String {
        let noun = problems.count == 1 ? "problem" : "problems"
        return "invalid configuration (\(problems.count) \(noun)):\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }

    /// Configuration errors exit with 2, like usage errors.
    public static let exitCode: Int32 = 2
}

/// Reads the catalogue's settings from the environment, collecting every problem instead of stopping at the first.
///
/// Each read returns a usable value (the default when the variable is bad) so reading can go on;
/// `finish()` then throws one `ConfigurationError` listing all problems. The rules (range, words, length)
/// are the catalogue's, so every program that reads a setting judges it the same way.
public final class EnvironmentReader {
    private let environment: [String: String]
    private var problems: [String] = []
    /// Values that must never appear in logs (passwords, tokens).
    public private(set) var secrets: [String] = []

    public init(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// A whole number within the setting's range; unset or invalid gives the catalogue's default.
    public func read(_ setting: Setting<Int>) -> Int {
        integer(setting, default: setting.defaultValue ?? 0)
    }

    /// A whole number whose default this reader brings (`HTTP_PORT`).
    public func read(_ setting: Setting<Int>, default defaultValue: Int) -> Int {
        integer(setting, default: defaultValue)
    }

    /// A decimal number within the setting's range (fractions such as `MAX_POSITION_PCT=0.10`).
    public func read(_ setting: Setting<Double>) -> Double {
        let defaultValue = setting.defaultValue ?? 0
        guard let raw = value(setting.name) else { return defaultValue }
        guard let number = Double(raw), number.isFinite else {
            problems.append("\(setting.name): expected a number, got '\(raw)'")
            return defaultValue
        }
        if case .decimal(let range) = setting.definition.kind, !range.contains(number) {
            problems.append("\(setting.name): \(raw) is outside the valid range \(range.lowerBound)-\(range.upperBound)")
            return defaultValue
        }
        return number
    }

    /// Text, one of the setting's words, or a secret (kept out of the logs); without a default the variable is required.
    public func read(_ setting: Setting<String>) -> String {
        text(setting, default: setting.defaultValue)
    }

    /// Text whose default this reader brings (`CONSUMER_NAME`: the service's name).
    public func read(_ setting: Setting<String>, default defaultValue: String) -> String {
        text(setting, default: defaultValue)
    }

    /// A credential cdbctl only passes on (Redis AUTH, libpq): unset is empty, and judging it is the server's and
    /// the preflight's business, not a reason for cdbctl to refuse to run.
    public func credential(_ setting: Setting<String>) -> String {
        let raw = value(setting.name) ?? ""
        if !raw.isEmpty { secrets.append(raw) }
        return raw
    }

    /// Records a problem that involves several variables at once.
    public func problem(_ message: String) {
        problems.append(message)
    }

    /// Throws all problems found so far.
    public func finish() throws(ConfigurationError) {
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
    }

    private func integer(_ setting: Setting<Int>, default defaultValue: Int) -> Int {
        guard let raw = value(setting.name) else { return defaultValue }
        guard let number = Int(raw) else {
            problems.append("\(setting.name): expected an integer, got '\(raw)'")
            return defaultValue
        }
        if case .integer(let range) = setting.definition.kind, !range.contains(number) {
            problems.append("\(setting.name): \(number) is outside the valid range \(range.lowerBound)-\(range.upperBound)")
            return defaultValue
        }
        return number
    }

    private func text(_ setting: Setting<String>, default defaultValue: String?) -> String {
        let name = setting.name
        guard let raw = value(name) else {
            guard let defaultValue else {
                problems.append("\(name): required but not set")
                return ""
            }
            if case .secret = setting.definition.kind, !defaultValue.isEmpty { secrets.append(defaultValue) }
            return defaultValue
        }
        switch setting.definition.kind {
        case .choice(let allowed) where !allowed.contains(raw):
            problems.append("\(name): expected one of \(allowed.joined(separator: ", ")), got '\(raw)'")
            return defaultValue ?? ""
        case .secret(let minimumLength):
            if raw.count < minimumLength {
                problems.append("\(name): must be at least \(minimumLength) characters (has \(raw.count))")
            }
            secrets.append(raw)
            return raw
        default:
            return raw
        }
    }

    /// The variable's value; set-but-empty counts as unset, as docker compose passes `VAR=` for blanks.
    private func value(_ name: String) -> String? {
        guard let raw = environment[name]?.trimmingWhitespace(), !raw.isEmpty else { return nil }
        return raw
    }
}
