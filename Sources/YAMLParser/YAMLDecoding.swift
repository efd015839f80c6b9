import Foundation

/// One problem found in a YAML file, located: `file:line:col: message`.
public struct YAMLDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var mark: YAMLMark
    public var message: String

    public init(file: String, mark: YAMLMark, message: String) {
        self.file = file
        self.mark = mark
        self.message = message
    }

    public var description: String { "\(file):\(mark): \(message)" }
}

/// Every problem found while decoding a file, in source order.
public struct YAMLDecodingError: Error, CustomStringConvertible, Equatable {
    public var diagnostics: [YAMLDiagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// A scalar type that can be read from YAML text.
public protocol YAMLScalarDecodable {
    /// `nil` when `text` does not fit the type.
    init?(yamlScalar text: String)
    /// The type in words, for "expected …" messages.
    static var yamlTypeName: String { get }
}

extension String: YAMLScalarDecodable {
    public init?(yamlScalar text: String) { self = text }
    public static var yamlTypeName: String { "a string" }
}

extension Int: YAMLScalarDecodable {
    public init?(yamlScalar text: String) {
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else { return nil }
        self = value
    }
    public static var yamlTypeName: String { "an integer" }
}

extension Double: YAMLScalarDecodable {
    public init?(yamlScalar text: String) {
        guard let value = Double(text), value.isFinite else { return nil }
        self = value
    }
    public static var yamlTypeName: String { "a number" }
}

extension Bool: YAMLScalarDecodable {
    public init?(yamlScalar text: String) {
        switch text.lowercased() {
        case "true", "yes", "on": self = true
        case "false", "no", "off": self = false
        default: return nil
        }
    }
    public static var yamlTypeName: String { "true or false" }
}

extension Duration: YAMLScalarDecodable {
    /// `500ms`, `30s`, `5m`, `4h`, `1d`, or a bare number of seconds.
    public init?(yamlScalar text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, seconds) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            // "5ms" must not be read as 5m followed by "s".
            guard let value = Double(number), value >= 0 else { continue }
            self = .milliseconds(Int64((value * seconds * 1000).rounded()))
            return
        }
        guard let value = Double(trimmed), value >= 0 else { return nil }
        self = .milliseconds(Int64((value * 1000).rounded()))
    }
    public static var yamlTypeName: String { "a duration like 500ms, 30s, 5m or 4h" }
}

/// Collects every problem while a file is decoded, so the user sees all of them at once.
public final class YAMLDecodingContext {
    public let file: String
    public private(set) var diagnostics: [YAMLDiagnostic] = []

    public init(file: String) {
        self.file = file
    }

    /// Records a problem at `mark`.
    public func error(_ message: String, at mark: YAMLMark) {
        diagnostics.append(YAMLDiagnostic(file: file, mark: mark, message: message))
    }

    /// Throws everything recorded, sorted by position; does nothing when all was well.
    public func finish() throws(YAMLDecodingError) {
        guard !diagnostics.isEmpty else { return }
        throw YAMLDecodingError(diagnostics: diagnostics.sorted { $0.mark < $1.mark })
    }

    /// Reads a scalar as `type`, recording "`what`: expected …, got …" when it does not fit.
    public func scalar<Value: YAMLScalarDecodable>(_ node: YAMLNode, as type: Value.Type, what: String) -> Value? {
        guard case .scalar(let text, _) = node.kind, !node.isNull else {
            error("\(what): expected \(Value.yamlTypeName), got \(node.kindName)", at: node.mark)
            return nil
        }
        guard let value = Value(yamlScalar: text) else {
            error("\(what): expected \(Value.yamlTypeName), got '\(text)'", at: node.mark)
            return nil
        }
        return value
    }

    /// The items of a list, recording an error when the node is not one.
    public func sequence(_ node: YAMLNode, what: String) -> [YAMLNode]? {
        if case .sequence(let items) = node.kind { return items }
        error("\(what): expected a list, got \(node.kindName)", at: node.mark)
        return nil
    }

    /// A keyed reader over a mapping: flags unknown keys (with a suggestion) and duplicates right away.
    public func mapping(_ node: YAMLNode, what: String, allowedKeys: [String]) -> YAMLMappingReader? {
        guard case .mapping(let pairs) = node.kind else {
            error("\(what): expected a mapping, got \(node.kindName)", at: node.mark)
            return nil
        }
        var seen: [String: YAMLMark] = [:]
        for pair in pairs {
            guard let key = pair.key.scalar else {
                error("\(what): keys must be plain names, got \(pair.key.kindName)", at: pair.key.mark)
                continue
            }
            if let first = seen[key] {
                error("\(what): duplicate key '\(key)' (first at \(first))", at: pair.key.mark)
            }
            seen[key] = pair.key.mark
            if !allowedKeys.contains(key) {
                var message = "\(what): unknown key '\(key)'"
                if let suggestion = closestMatch(to: key, among: allowedKeys) { message += " (did you mean '\(suggestion)'?)" }
                error(message, at: pair.key.mark)
            }
        }
        return YAMLMappingReader(node: node, pairs: pairs, what: what, context: self)
    }
}

/// Reads keys of one mapping, recording located errors in its context.
public struct YAMLMappingReader {
    public let node: YAMLNode
    public let pairs: [YAMLPair]
    let what: String
    let context: YAMLDecodingContext

    /// The node under `key`, if present.
    public subscript(key: String) -> YAMLNode? {
        pairs.first { $0.key.scalar == key }?.value
    }

    /// A required scalar; a missing key is reported at the mapping's start.
    public func required<Value: YAMLScalarDecodable>(_ key: String, as type: Value.Type) -> Value? {
        guard let value = self[key] else {
            context.error("\(what): missing required key '\(key)'", at: node.mark)
            return nil
        }
        return context.scalar(value, as: type, what: "\(what).\(key)")
    }

    /// An optional scalar: absent or null gives nil without an error.
    public func optional<Value: YAMLScalarDecodable>(_ key: String, as type: Value.Type) -> Value? {
        guard let value = self[key], !value.isNull else { return nil }
        return context.scalar(value, as: type, what: "\(what).\(key)")
    }

    /// A required node of any kind.
    public func requiredNode(_ key: String) -> YAMLNode? {
        guard let value = self[key] else {
            context.error("\(what): missing required key '\(key)'", at: node.mark)
            return nil
        }
        return value
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
public func closestMatch(to word: String, among candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    return best.1 <= max(1, min(3, best.0.count / 3)) ? best.0 : nil
}

/// Levenshtein distance between two strings.
public func editDistance(_ lhs: String, _ rhs: String) -> Int {
    let a = Array(lhs), b = Array(rhs)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
