import Foundation
import HTTPClient
import Primitives
import StackContract
import YAMLParser

/// `type: http`: services' endpoints (or one URL) answer with the expected status, fast enough, and their JSON
/// meets the conditions.
public struct HTTPCheck: CheckType {
    /// Either service names (their published base URL) or one literal URL.
    public var services: [String]
    public var url: String?
    public var path: String
    public var status: Int
    public var conditions: [Condition]
    public var maxLatency: Duration?

    public static let typeName = "http"
    public static let keys = ["services", "url", "path", "status", "expect", "max_latency"]

    public static func decode(from reader: CheckReader) -> HTTPCheck? {
        let services = reader.strings("services") ?? []
        let url = reader.optional("url", as: String.self)
        if services.isEmpty == (url == nil) {
            reader.error("\(reader.what): give either services or url", at: reader.node.mark)
        }
        return HTTPCheck(services: services, url: url, path: reader.optional("path", as: String.self) ?? "/health",
                         status: reader.optional("status", as: Int.self) ?? 200,
                         conditions: reader.conditions(), maxLatency: reader.optional("max_latency", as: Duration.self))
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        await context.http(self)
    }

    public func replacingService(with service: String) -> HTTPCheck {
        var copy = self
        copy.services = services.replacingService(with: service)
        return copy
    }
}

extension CheckContext {
    fileprivate func http(_ check: HTTPCheck) async -> CheckOutcome {
        let targets: [(String, String?)] = check.url.map { [(expand($0), expand($0))] }
            ?? check.services.map { ($0, baseURL(of: $0).map { $0 + check.path }) }
        var problems: [String] = []
        var passed: [String] = []
        var held: [String] = []
        var figures: [String: Double] = [:]
        for (name, url) in targets {
            // A service stopped on purpose does not answer, and is not meant to.
            if check.url == nil, let hold = hold(on: name) {
                held.append("\(name) \(Self.heldText(hold))")
                continue
            }
            guard let url else {
                problems.append("\(name): not a service cdbctl knows (\(stack.services.map(\.name).joined(separator: ", ")))")
                continue
            }
            do {
                let response = try await HTTPClient().get(url, timeout: .seconds(5))
                let latency = response.totalTime
                figures["latency_ms.\(name)"] = latency.milliseconds
                var issues: [String] = []
                if response.status != check.status { issues.append("answered \(response.status), expected \(check.status)") }
                if let maxLatency = check.maxLatency, latency > maxLatency {
                    issues.append("took \(latency.secondsText) (allowed \(maxLatency.secondsText))")
                }
                var found: [String] = []
                if !check.conditions.isEmpty {
                    if let document = JSONValue(json: response.body) {
                        for condition in check.conditions {
                            let (holds, value) = condition.evaluate(document)
                            found.append(value)
                            if !holds { issues.append("\(condition) does not hold: \(value)") }
                        }
                    } else {
                        issues.append("answer is not JSON: \(response.text.prefix(120))")
                    }
                }
                // The values behind the conditions are the point of a status check (the drawdown, the exposure).
                let values = check.conditions.contains { $0.op != .equal } ? " (" + found.joined(separator: ", ") + ")" : ""
                if issues.isEmpty { passed.append("\(name) \(response.status) in \(latency.secondsText)\(values)") } else { problems.append("\(url) " + issues.joined(separator: "; ")) }
            } catch {
                problems.append("\(error)")
            }
        }
        // Nothing read is no pass: an alarm on a held service's figures stays open until they can be read again.
        if problems.isEmpty, passed.isEmpty, !held.isEmpty { return .skip(held.joined(separator: "; ")) }
        let detail = (passed + held).joined(separator: ", ")
        return problems.isEmpty ? .pass(detail, figures: figures) : .fail((problems + held).joined(separator: "; "), figures: figures)
    }
}
