import Foundation
import YAMLParser

/// One `type:` of runbook.yaml's checks: its name and keys, how it reads itself from YAML and how it runs.
/// A new check type is one new conforming file, listed once in `CheckTypes.all`.
public protocol CheckType: Sendable {
    /// The name written after `type:`.
    static var typeName: String { get }
    /// The keys the check accepts besides `type`; any other key is a located error.
    static var keys: [String] { get }
    /// The check from its mapping, or nil after reporting what is wrong through `reader`.
    static func decode(from reader: CheckReader) -> Self?
    /// Runs the check against the stack; a thrown error fails the step with its description.
    func execute(in context: CheckContext) async throws -> CheckOutcome
    /// The check with `$SERVICE` in its service lists replaced: one playbook serves whichever service is hit.
    func replacingService(with service: String) -> Self
    /// Whether running it deletes data: its step must then say `destructive: true` (the `--yes` and backup gate).
    var deletesData: Bool { get }
}

extension CheckType {
    /// Checks that name no services are the same for every service.
    public func replacingService(with service: String) -> Self { self }

    public var deletesData: Bool { false }

    /// The check's `type:` name, as written in runbook.yaml.
    public var typeName: String { Self.typeName }
}

/// The registry of check types, in the order error messages list them.
public enum CheckTypes {
    public static let all: [any CheckType.Type] = [
        EnvCheck.self, HostCheck.self, ContainersCheck.self, HTTPCheck.self, RedisCheck.self, SQLCheck.self,
        PrometheusCheck.self, GrafanaCheck.self, CommandCheck.self, BackupCheck.self, RestoreCheck.self,
        RemoveVolumesCheck.self, LogsCheck.self, DataGrowthCheck.self, PersistenceCheck.self, ReconcileCheck.self, RecordCheck.self,
        ContainerActionCheck.self, OpenPositionsCheck.self, ArchiveLogsCheck.self, IncidentReportCheck.self,
        EvidenceCheck.self, EscalationCheck.self, WaitCheck.self, SettingsAppliedCheck.self,
    ]

    public static var names: [String] { all.map { $0.typeName } }

    public static func named(_ name: String) -> (any CheckType.Type)? {
        all.first { $0.typeName == name }
    }

    /// Decodes a step's `check:` mapping by its `type:`, reporting located errors into `context`.
    static func decode(_ node: YAMLNode, step: String, context: YAMLDecodingContext, baseDirectory: String) -> (any CheckType)? {
        let what = "\(step).check"
        guard case .mapping = node.kind else {
            context.error("\(what): expected a mapping with a type, got \(node.kindName)", at: node.mark)
            return nil
        }
        guard let typeNode = node["type"] else {
            context.error("\(what): missing required key 'type' (one of \(names.joined(separator: ", ")))", at: node.mark)
            return nil
        }
        guard let name = context.scalar(typeNode, as: String.self, what: "\(what).type") else { return nil }
        guard let type = named(name) else {
            var message = "unknown check type '\(name)'"
            if let suggestion = closestMatch(to: name, among: names) { message += " (did you mean '\(suggestion)'?)" }
            context.error(message, at: typeNode.mark)
            return nil
        }
        guard let mapping = context.mapping(node, what: "\(what) (\(name))", allowedKeys: ["type"] + type.keys) else { return nil }
        return type.decode(from: CheckReader(mapping: mapping, context: context, baseDirectory: baseDirectory, what: what))
    }
}

/// A check's mapping as its type reads it: the keys, plus the list, condition, size and file readers
/// several types share; every problem is reported located, under `what` (`step 'a'.check`).
public struct CheckReader {
    public let mapping: YAMLMappingReader
    public let context: YAMLDecodingContext
    /// Files the check names (`file:`, `rules_file:`, `sql:`) are relative to this directory.
    public let baseDirectory: String
    public let what: String

    public var node: YAMLNode { mapping.node }
    public subscript(key: String) -> YAMLNode? { mapping[key] }

    public func required<Value: YAMLScalarDecodable>(_ key: String, as type: Value.Type) -> Value? { mapping.required(key, as: type) }
    public func optional<Value: YAMLScalarDecodable>(_ key: String, as type: Value.Type) -> Value? { mapping.optional(key, as: type) }
    public func error(_ message: String, at mark: YAMLMark) { context.error(message, at: mark) }

    /// A list of strings.
    public func strings(_ key: String, required: Bool = false) -> [String]? {
        guard let node = mapping[key] else {
            if required { context.error("\(what): missing required key '\(key)'", at: mapping.node.mark) }
            return nil
        }
        guard let items = context.sequence(node, what: "\(what).\(key)") else { return nil }
        return items.compactMap { context.scalar($0, as: String.self, what: "\(what).\(key)") }
    }

    /// The `expect:` conditions.
    public func conditions() -> [Condition] {
        guard let node = mapping["expect"], let items = context.sequence(node, what: "\(what).expect") else { return [] }
        return items.compactMap { item -> Condition? in
            guard let text = context.scalar(item, as: String.self, what: "\(what).expect") else { return nil }
            do {
                return try Condition(parsing: text)
            } catch {
                context.error("\(what).expect: \(error)", at: item.mark)
                return nil
            }
        }
    }

    /// Sizes like `4GiB`, `10GB`, `512MiB`.
    public func bytes(_ key: String) -> Int64? {
        guard let node = mapping[key], let text = context.scalar(node, as: String.self, what: key) else { return nil }
        let units: [(String, Double)] = [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("GB", 1e9), ("MB", 1e6), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let number = Double(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), number >= 0 {
                return Int64(number * factor)
            }
        }
        context.error("\(key): expected a size like 4GiB, 10GB or 512MiB, got '\(text)'", at: node.mark)
        return nil
    }

    /// A file under the project directory that must exist; its text, or nil with a located error.
    public func file(_ key: String) -> String? {
        guard let node = mapping[key], let relative = context.scalar(node, as: String.self, what: "\(what).\(key)") else { return nil }
        let path = relative.hasPrefix("/") ? relative : baseDirectory + "/" + relative
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            context.error("\(what).\(key): cannot read '\(relative)' (looked at \(path))", at: node.mark)
            return nil
        }
        return text
    }
}

extension [String] {
    /// `$SERVICE` replaced by the service a playbook runs for.
    func replacingService(with service: String) -> [String] { map { $0 == "$SERVICE" ? service : $0 } }
}
