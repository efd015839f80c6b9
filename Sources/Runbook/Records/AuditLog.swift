import Foundation

extension ReportsDirectory {
    /// Appends one action to `reports/audit.jsonl`.
    public func audit(command: String, action: String, outcome: String, detail: String = "") {
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let entry: [String: String] = [
            "time": ISO8601DateFormatter().string(from: Date()), "command": command, "action": action,
            "outcome": outcome, "detail": detail, "user": ProcessInfo.processInfo.environment["USER"] ?? "\(getuid())",
            "pid": "\(getpid())",
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(entry) else { return }
        line.append(UInt8(ascii: "\n"))
        let path = root.appendingPathComponent("audit.jsonl").path
        // O_APPEND keeps concurrent lines whole (each is one write well under PIPE_BUF).
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}
