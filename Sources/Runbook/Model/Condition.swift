import Foundation
import HTTPClient

/// A condition such as `status == "ok"`, `.daily_drawdown < 0.05` or `count >= 5`, checked against JSON.
public struct Condition: Sendable, Equatable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        // Two-character operators first, so `<=` is not read as `<`.
        case equal = "==", notEqual = "!=", lessOrEqual = "<=", greaterOrEqual = ">=", less = "<", greater = ">"
    }

    public var path: [String]
    public var op: Operator
    public var expected: JSONValue
    public let text: String

    public var description: String { text }

    /// Parses `text`; the error says what is wrong in words a runbook author can act on.
    public init(parsing text: String) throws(ConditionSyntaxError) {
        self.text = text
        guard let op = Operator.allCases.first(where: { text.contains($0.rawValue) }),
              let range = text.range(of: op.rawValue) else {
            throw ConditionSyntaxError(message: "condition '\(text)' has no comparison (use ==, !=, <, <=, > or >=)")
        }
        let left = text[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        let right = text[range.upperBound...].trimmingCharacters(in: .whitespaces)
        let pathText = left.hasPrefix(".") ? String(left.dropFirst()) : left
        guard !pathText.isEmpty, pathText.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else {
            throw ConditionSyntaxError(message: "condition '\(text)': '\(left)' is not a field path like status or .dependencies.redis")
        }
        guard let expected = Self.literal(right) else {
            throw ConditionSyntaxError(message: "condition '\(text)': '\(right)' is not a number, a quoted string, true, false or null")
        }
        if case .string = expected, op != .equal, op != .notEqual {
            throw ConditionSyntaxError(message: "condition '\(text)': strings can only be compared with == or !=")
        }
        self.path = pathText.split(separator: ".").map(String.init)
        self.op = op
        self.expected = expected
    }

    private static func literal(_ text: String) -> JSONValue? {
        if let number = Double(text) { return .number(number) }
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default: break
        }
        if text.count >= 2, let quote = text.first, quote == "\"" || quote == "'", text.last == quote {
            return .string(String(text.dropFirst().dropLast()))
        }
        return nil
    }

    /// Whether `document` satisfies the condition, and in words what was found.
    public func evaluate(_ document: JSONValue) -> (holds: Bool, found: String) {
        guard let actual = document.value(at: path) else { return (false, "\(path.joined(separator: ".")) is missing") }
        let found = "\(path.joined(separator: ".")) = \(actual)"
        switch (actual, expected) {
        case (.number(let a), .number(let b)):
            return (compare(a, b), found)
        case (.string(let a), .number(let b)):
            // SQL rows arrive as text; a numeric column compares as a number.
            guard let number = Double(a) else { return (false, found + " (not a number)") }
            return (compare(number, b), "\(path.joined(separator: ".")) = \(a)")
        default:
            switch op {
            case .equal: return (actual == expected || Self.textEqual(actual, expected), found)
            case .notEqual: return (!(actual == expected || Self.textEqual(actual, expected)), found)
            default: return (false, found + " (not comparable with \(expected))")
            }
        }
    }

    private func compare(_ a: Double, _ b: Double) -> Bool {
        switch op {
        case .equal: return a == b
        case .notEqual: return a != b
        case .less: return a < b
        case .lessOrEqual: return a <= b
        case .greater: return a > b
        case .greaterOrEqual: return a >= b
        }
    }

    /// PostgreSQL text `t`/`f` against a boolean literal.
    private static func textEqual(_ actual: JSONValue, _ expected: JSONValue) -> Bool {
        if case .string(let text) = actual, case .bool(let flag) = expected { return text == (flag ? "t" : "f") || text == "\(flag)" }
        return false
    }
}

public struct ConditionSyntaxError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }
}
