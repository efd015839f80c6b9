import Foundation
import YAMLParser

/// `type: escalation`: fails (and so escalates to the emergency stop) when the same incident hit the same service
/// within `window`.
public struct EscalationCheck: CheckType {
    public var window: Duration

    public static let typeName = "escalation"
    public static let keys = ["window"]

    public static func decode(from reader: CheckReader) -> EscalationCheck? {
        EscalationCheck(window: reader.optional("window", as: Duration.self) ?? .seconds(3600))
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        context.escalation(window: window)
    }
}

extension CheckContext {
    fileprivate func escalation(window: Duration) -> CheckOutcome {
        guard let incident = command.incident else { return .fail("escalation is judged by a playbook (cdbctl incident <kind>)") }
        let earlier = incident.history.earlier(than: incident.entry, within: window)
        guard let first = earlier.last else {
            return .pass("first \(incident.entry.kind) of \(incident.entry.service) within \(window.secondsText)")
        }
        return .fail("\(incident.entry.kind) of \(incident.entry.service) again within \(window.secondsText) (previous: \(first.id) at \(ISO8601DateFormatter().string(from: first.time))): emergency stop",
                     figures: ["escalate": 1])
    }
}
