import Foundation

extension ReportsDirectory {
    /// Appends one action to `reports/audit.jsonl` (0600), its detail masked.
    public func audit(command: String, action: String, outcome: String, detail: String = "") {
        let entry: [String: String] = [
            "time": ISO8601DateFormatter().string(from: Date()), "command": command, "action": action,
            "outcome": outcome, "detail": mask.apply(detail), "user": ProcessInfo.processInfo.environment["USER"] ?? "\(getuid())",
            "pid": "\(getpid())",
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(entry) else { return }
        line.append(UInt8(ascii: "\n"))
        // Best effort: an action is never held up because its audit line could not be written.
        _ = try? privateDirectory()
        try? OperatorFiles.appendPrivateLine(line, to: root.appendingPathComponent("audit.jsonl").path)
    }
}
