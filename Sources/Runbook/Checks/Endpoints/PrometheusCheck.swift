import Foundation
import HTTPClient
import StackContract
import YAMLParser

/// `type: prometheus`: scrape targets up, alert rules loaded, no alert of the given severities firing.
public struct PrometheusCheck: CheckType {
    public var url: String?
    public var targetsUp: Bool
    public var rules: [String]
    public var noFiring: [String]

    public static let typeName = "prometheus"
    public static let keys = ["url", "targets_up", "rules", "no_firing"]

    public static func decode(from reader: CheckReader) -> PrometheusCheck? {
        PrometheusCheck(url: reader.optional("url", as: String.self), targetsUp: reader.optional("targets_up", as: Bool.self) ?? true,
                        rules: reader.strings("rules") ?? [], noFiring: reader.strings("no_firing") ?? [])
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.prometheus(url: url, targetsUp: targetsUp, rules: rules, noFiring: noFiring)
    }
}

extension CheckContext {
    fileprivate func prometheus(url: String?, targetsUp: Bool, rules: [String], noFiring severities: [String]) async throws -> CheckOutcome {
        let base = prometheusURL(url)
        var problems: [String] = []
        var found: [String] = []
        if targetsUp {
            let response = try await HTTPClient().get(base + "/api/v1/targets?state=active", timeout: .seconds(5))
            guard response.status == 200, case .array(let targets)? = JSONValue(json: response.body)?.value(at: ["data", "activeTargets"]) else {
                return .fail("\(base)/api/v1/targets answered \(response.status)")
            }
            let down = targets.filter { $0.string(["health"]) != "up" }.map {
                "\($0.string(["labels", "job"]) ?? "?") \($0.string(["health"]) ?? "?")\($0.string(["lastError"]).map { $0.isEmpty ? "" : ": \($0)" } ?? "")"
            }
            if targets.isEmpty { problems.append("no scrape targets configured") }
            if !down.isEmpty { problems.append("targets not up: \(down.joined(separator: "; "))") }
            found.append("\(targets.count - down.count)/\(targets.count) targets up")
        }
        if !rules.isEmpty {
            let response = try await HTTPClient().get(base + "/api/v1/rules", timeout: .seconds(5))
            guard response.status == 200, case .array(let groups)? = JSONValue(json: response.body)?.value(at: ["data", "groups"]) else {
                return .fail("\(base)/api/v1/rules answered \(response.status)")
            }
            var loaded: Set<String> = []
            for group in groups {
                if case .array(let items)? = group.value(at: ["rules"]) { items.compactMap { $0.string(["name"]) }.forEach { loaded.insert($0) } }
            }
            let missing = rules.filter { !loaded.contains($0) }
            if !missing.isEmpty { problems.append("alert rules not loaded: \(missing.joined(separator: ", "))") }
            found.append("\(rules.count - missing.count)/\(rules.count) alert rules loaded")
        }
        if !severities.isEmpty {
            let response = try await HTTPClient().get(base + "/api/v1/alerts", timeout: .seconds(5))
            guard response.status == 200, case .array(let alerts)? = JSONValue(json: response.body)?.value(at: ["data", "alerts"]) else {
                return .fail("\(base)/api/v1/alerts answered \(response.status)")
            }
            let firing = alerts.filter { $0.string(["state"]) == "firing" && severities.contains($0.string(["labels", "severity"]) ?? "") }
                .map { "\($0.string(["labels", "alertname"]) ?? "?") (\($0.string(["labels", "severity"]) ?? "?"))" }
            if !firing.isEmpty { problems.append("alerts firing: \(firing.joined(separator: ", "))") }
            found.append("no \(severities.joined(separator: "/")) alert firing")
        }
        return problems.isEmpty ? .pass(found.joined(separator: ", ")) : .fail(problems.joined(separator: "; "))
    }
}
