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

/// Reads typed settings from the environment, collecting every problem instead of stopping at the first.
///
/// Each accessor returns a usable value (the default when the variable is bad) so reading can go on;
/// `finish()` then throws one `ConfigurationError` listing all problems.
public final class EnvironmentReader {
    private let environment: [String: String]
    private var problems: [String] = []
    /// Values that must never appear in logs (passwords, tokens).
    public private(set) var secrets: [String] = []

    public init(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// A string; without a default the variable is required.
    public func string(_ name: String, default defaultValue: String? = nil) -> String {
        guard let raw = value(name) else {
            if let defaultValue { return defaultValue }
            problems.append("\(name): required but not set")
            return ""
        }
        return raw
    }

    /// One of a fixed set of words.
    public func choice(_ name: String, default defaultValue: String, allowed: [String]) -> String {
        let raw = string(name, default: defaultValue)
        guard allowed.contains(raw) else {
            problems.append("\(name): expected one of \(allowed.joined(separator: ", ")), got '\(raw)'")
            return defaultValue
        }
        return raw
    }

    /// A whole number within `range`.
    public func integer(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        guard let raw = value(name) else { return defaultValue }
        guard let number = Int(raw) else {
            problems.append("\(name): expected an integer, got '\(raw)'")
            return defaultValue
        }
        guard range.contains(number) else {
            problems.append("\(name): \(number) is outside the valid range \(range.lowerBound)-\(range.upperBound)")
            return defaultValue
        }
        return number
    }

    /// A TCP port (1-65535).
    public func port(_ name: String, default defaultValue: Int) -> Int {
        integer(name, default: defaultValue, range: 1...65535)
    }

    /// A decimal number within `range` (fractions such as `MAX_POSITION_PCT=0.10`).
    public func decimal(_ name: String, default defaultValue: Double, range: ClosedRange<Double>) -> Double {
        guard let raw = value(name) else { return defaultValue }
        guard let number = Double(raw), number.isFinite else {
            problems.append("\(name): expected a number, got '\(raw)'")
            return defaultValue
        }
        guard range.contains(number) else {
            problems.append("\(name): \(raw) is outside the valid range \(range.lowerBound)-\(range.upperBound)")
            return defaultValue
        }
        return number
    }

    /// `true/false`, `1/0`, `yes/no`.
    public func flag(_ name: String, default defaultValue: Bool) -> Bool {
        guard let raw = value(name) else { return defaultValue }
        switch raw.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            problems.append("\(name): expected true or false, got '\(raw)'")
            return defaultValue
        }
    }

    /// A secret: never logged. Without a default it is required; `minimumLength` guards against placeholders.
    public func secret(_ name: String, default defaultValue: String? = nil, minimumLength: Int = 0) -> String {
        let raw = value(name)
        guard let raw else {
            if let defaultValue {
                if !defaultValue.isEmpty { secrets.append(defaultValue) }
                return defaultValue
            }
            problems.append("\(name): required but not set")
            return ""
        }
        if raw.count < minimumLength {
            problems.append("\(name): must be at least \(minimumLength) characters (has \(raw.count))")
        }
        secrets.append(raw)
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

    /// The variable's value; set-but-empty counts as unset, as docker compose passes `VAR=` for blanks.
    private func value(_ name: String) -> String? {
        guard let raw = environment[name]?.trimmingWhitespace(), !raw.isEmpty else { return nil }
        return raw
    }
}
