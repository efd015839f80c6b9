import Foundation

extension Notification {
    /// The notification a phase's verdict calls for, or nil for phases the operator does not need to hear about
    /// (preflight, monitor: its alarms are notified by the alarm ledger, report, postrun). `command` names it
    /// (`incident database-restore`), `runID` is the run's start. The key is `phase:<command words>:<verdict>`.
    public static func verdict(of record: PhaseRecord, command: String, runID: String?) -> Notification? {
        let failedSteps = record.results.filter { $0.status == .fail }.map(\.id)
        let failures = failedSteps.isEmpty ? "" : " Failed: \(failedSteps.joined(separator: ", "))."
        let (kind, severity): (NotificationKind, NotificationSeverity)
        switch (record.phase, record.verdict) {
        case (.go, .go): (kind, severity) = (.go, .info)
        case (.go, _): (kind, severity) = (.noGo, .critical)
        case (.start, let verdict): (kind, severity) = (.started, verdict.succeeded ? .info : .critical)
        // An emergency stop (seed §7.2) ended the run early: the operator must hear it, however it went.
        case (.stop, _): (kind, severity) = (.stopped, record.verdict.succeeded && !command.hasSuffix("--emergency") ? .info : .critical)
        case (.incidents, .resolved): (kind, severity) = (.incident, .warning)
        case (.incidents, _): (kind, severity) = (.incident, .critical)
        default: return nil
        }
        // The verdict is part of the key: a GO after a NO-GO is news, a second NO-GO within per_key is not.
        let words = command.split(separator: " ").map { $0.drop { $0 == "-" } } + [Substring(record.verdict.rawValue.lowercased())]
        let notes = record.notes.isEmpty ? "" : " " + record.notes.joined(separator: "; ")
        return Notification(kind: kind, severity: severity, key: "phase:" + words.joined(separator: ":"),
                            title: "cdbctl \(command): \(record.verdict)",
                            body: "\(record.phase.rawValue) ended \(record.verdict) at \(ISO8601DateFormatter().string(from: record.finishedAt)).\(failures)\(notes)",
                            time: record.finishedAt, runID: runID)
    }
}
