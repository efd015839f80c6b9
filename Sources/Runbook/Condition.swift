import Foundation

/// A JSON value, as a check reads it from a `/status` document or an SQL row.
public enum JSONValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses a JSON document; nil when it is not JSON.
    public init?(json bytes: [UInt8]) {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) else { return nil }
        self = value
    }

    /// The value at a dotted path (`dependencies.redis.status`); nil when absent.
    public func value(at path: [String]) -> JSONValue? {
        var current = self
        for key in path {
            switch current {
            case .object(let members):
                guard let next = members[key] else { return nil }
                current = next
            case .array(let items):
                guard let index = Int(key), items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "\(value)"
        case .number(let value): return value.rounded() == value && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
        case .string(let value): return "'\(value)'"
        case .array(let items): return "[\(items.count) items]"
        case .object: return "{…}"
        }
    }
}

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
