import Foundation

extension Notification {
    /// The notification a phase's verdict calls for, or nil for phases the operator does not need to hear about
    /// (preflight, monitor: its alarms are notified by the alarm ledger, report, postrun). `command` names it
    /// (`incident database-restore`), `runID` is the run's start.
    public static func verdict(of record: PhaseRecord, command: String, runID: String?) -> Notification? {
        let failedSteps = record.results.filter { $0.status == .fail }.map(\.id)
        let failures = failedSteps.isEmpty ? "" : " Failed: \(failedSteps.joined(separator: ", "))."
        let (kind, severity): (NotificationKind, NotificationSeverity)
        switch (record.phase, record.verdict) {
        case (.go, .go): (kind, severity) = (.go, .info)
        case (.go, _): (kind, severity) = (.noGo, .critical)
        case (.start, .fail): (kind, severity) = (.started, .critical)
        case (.start, _): (kind, severity) = (.started, .info)
        case (.stop, _): (kind, severity) = (.stopped, record.verdict.succeeded ? .info : .critical)
        case (.incidents, .resolved): (kind, severity) = (.incident, .warning)
        case (.incidents, _): (kind, severity) = (.incident, .critical)
        default: return nil
        }
        return Notification(kind: kind, severity: severity, key: "phase:\(command.replacingOccurrences(of: " ", with: ":"))",
                            title: "cdbctl \(command): \(record.verdict)",
                            body: "\(record.phase.rawValue) ended \(record.verdict) at \(ISO8601DateFormatter().string(from: record.finishedAt)).\(failures)",
                            time: record.finishedAt, runID: runID)
    }
}
