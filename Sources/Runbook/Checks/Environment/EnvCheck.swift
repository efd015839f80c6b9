import Foundation
import YAMLParser

/// One rule of the `env` check: a variable, whether it must be set, and what its value must look like.
public struct EnvRule: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case string, integer, decimal, port, host }
    public var name: String
    public var required: Bool
    public var kind: Kind
    public var minimum: Double?
    public var maximum: Double?
    public var minLength: Int?
    public var expected: String?
}

/// `type: env`: the variables of `.env` (or the process environment) held to their rules.
public struct EnvCheck: CheckType {
    public var rules: [EnvRule]

    public static let typeName = "env"
    public static let keys = ["rules", "rules_file"]

    public static func decode(from reader: CheckReader) -> EnvCheck? {
        envRules(reader).map { EnvCheck(rules: $0) }
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        EnvRuleCheck.evaluate(rules, environment: context.environment)
    }

    private static func envRules(_ reader: CheckReader) -> [EnvRule]? {
        let context = reader.context
        let what = reader.what
        var nodes: [YAMLNode] = []
        if let inline = reader["rules"], let items = context.sequence(inline, what: "\(what).rules") { nodes += items }
        if let text = reader.file("rules_file") {
            // The rules file is its own YAML document; its errors carry its own name and positions.
            let file = reader["rules_file"]?.scalar ?? "rules"
            do {
                let root = try YAMLDocumentParser.parse(text, file: file)
                let fileContext = YAMLDecodingContext(file: file)
                if let top = fileContext.mapping(root, what: file, allowedKeys: ["rules"]), let list = top.requiredNode("rules"),
                   let items = fileContext.sequence(list, what: "rules") {
                    let rules = items.compactMap { EnvRuleDecoder(context: fileContext).decode($0) }
                    fileContext.diagnostics.forEach { context.error("\($0.file):\($0.mark): \($0.message)", at: reader["rules_file"]!.mark) }
                    return rules + nodes.compactMap { EnvRuleDecoder(context: context).decode($0) }
                }
                fileContext.diagnostics.forEach { context.error("\($0.file):\($0.mark): \($0.message)", at: reader["rules_file"]!.mark) }
            } catch {
                context.error("\(error)", at: reader["rules_file"]!.mark)
            }
            return nil
        }
        if nodes.isEmpty && reader["rules_file"] == nil {
            context.error("\(what): give rules or rules_file", at: reader.node.mark)
        }
        return nodes.compactMap { EnvRuleDecoder(context: context).decode($0) }
    }
}

struct EnvRuleDecoder {
    let context: YAMLDecodingContext

    func decode(_ node: YAMLNode) -> EnvRule? {
        let label = "rule '\(node["name"]?.scalar ?? "?")'"
        guard let reader = context.mapping(node, what: label, allowedKeys: ["name", "required", "type", "min", "max", "min_length", "equals"]) else { return nil }
        guard let name = reader.required("name", as: String.self) else { return nil }
        let typeText = reader.optional("type", as: String.self) ?? "string"
        guard let kind = EnvRule.Kind(rawValue: typeText) else {
            var message = "\(label).type: unknown type '\(typeText)'"
            if let suggestion = closestMatch(to: typeText, among: EnvRule.Kind.allCases.map(\.rawValue)) { message += " (did you mean '\(suggestion)'?)" }
            context.error(message, at: reader["type"]!.mark)
            return nil
        }
        return EnvRule(name: name, required: reader.optional("required", as: Bool.self) ?? true, kind: kind,
                       minimum: reader.optional("min", as: Double.self), maximum: reader.optional("max", as: Double.self),
                       minLength: reader.optional("min_length", as: Int.self), expected: reader.optional("equals", as: String.self))
    }
}

/// The `env` check: every rule, every problem in one message; secrets are never printed.
public enum EnvRuleCheck {
    public static func evaluate(_ rules: [EnvRule], environment: [String: String]) -> CheckOutcome {
        var problems: [String] = []
        for rule in rules {
            guard let value = environment[rule.name], !value.isEmpty else {
                if rule.required { problems.append("\(rule.name) is not set") }
                continue
            }
            let secret = ["PASSWORD", "TOKEN", "SECRET"].contains { rule.name.contains($0) }
            let shown = secret ? "<\(value.count) characters>" : "'\(value)'"
            switch rule.kind {
            case .string:
                break
            case .host:
                if value.contains(where: { $0.isWhitespace || $0 == "/" }) { problems.append("\(rule.name): expected a host name, got \(shown)") }
            case .integer, .port, .decimal:
                guard let number = rule.kind == .decimal ? Double(value) : Int(value).map(Double.init) else {
                    problems.append("\(rule.name): expected \(rule.kind == .decimal ? "a number" : "an integer"), got \(shown)")
                    continue
                }
                let minimum = rule.minimum ?? (rule.kind == .port ? 1 : -.infinity)
                let maximum = rule.maximum ?? (rule.kind == .port ? 65535 : .infinity)
                if number < minimum || number > maximum {
                    problems.append("\(rule.name): \(shown) is outside \(Self.format(minimum))–\(Self.format(maximum))")
                }
            }
            if let minLength = rule.minLength, value.count < minLength {
                problems.append("\(rule.name): must be at least \(minLength) characters, has \(value.count)")
            }
            if let expected = rule.expected, value != expected {
                problems.append("\(rule.name): expected '\(expected)', got \(shown)")
            }
        }
        return problems.isEmpty ? .pass("\(rules.count) variables valid") : .fail(problems.joined(separator: "; "))
    }

    static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e12 ? "\(Int(value))" : "\(value)"
    }
}
