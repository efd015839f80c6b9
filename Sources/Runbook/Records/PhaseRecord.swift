import Foundation

/// What one run of a phase decided, as written to `reports/` and kept as state for the next run.
public struct PhaseRecord: Sendable, Codable {
    public var phase: PhaseName
    public var verdict: Verdict
    public var startedAt: Date
    public var finishedAt: Date
    public var results: [StepResult]
    /// Alarms raised by a monitor cycle (seed §4.2), with their severity and playbook.
    public var alarms: [Alarm]
    /// Notes the command adds (the start time recorded, the preflight results GO judged).
    public var notes: [String]

    public init(phase: PhaseName, verdict: Verdict, startedAt: Date, finishedAt: Date, results: [StepResult],
                alarms: [Alarm] = [], notes: [String] = []) {
        self.phase = phase
        self.verdict = verdict
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.results = results
        self.alarms = alarms
        self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case phase, verdict, results, alarms, notes
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }
}

/// An alarm of the seed's §4.2 table: a failed monitor step with its severity and the playbook it calls for.
public struct Alarm: Sendable, Codable, Equatable {
    public var step: String
    public var severity: Severity
    public var message: String
    public var playbook: String?

    public init(step: String, severity: Severity, message: String, playbook: String?) {
        self.step = step
        self.severity = severity
        self.message = message
        self.playbook = playbook
    }
}

/// The Markdown twin of a phase record.
enum RecordMarkdown {
    static func render(_ record: PhaseRecord) -> String {
        var lines = [
            "# cdbctl \(record.phase.rawValue): \(record.verdict)", "",
            "- started: \(ISO8601DateFormatter().string(from: record.startedAt))",
            "- finished: \(ISO8601DateFormatter().string(from: record.finishedAt))", "",
        ]
        lines += record.notes.map { "- \($0)" }
        if !record.notes.isEmpty { lines.append("") }
        lines += ["| Step | Seed | Severity | Status | Detail |", "|---|---|---|---|---|"]
        for result in record.results {
            let detail = result.detail.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
            lines.append("| \(result.id) | \(result.seed) | \(result.severity.rawValue) | \(result.status.rawValue.uppercased()) | \(detail) |")
        }
        if !record.alarms.isEmpty {
            lines += ["", "## Alarms", "", "| Severity | Step | Playbook | Message |", "|---|---|---|---|"]
            lines += record.alarms.map { "| \($0.severity.rawValue.uppercased()) | \($0.step) | \($0.playbook ?? "-") | \($0.message) |" }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
