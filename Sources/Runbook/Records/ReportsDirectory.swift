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
}

/// The `reports/` directory: per-run records (JSON + Markdown), last results per phase, and the audit log.
public struct ReportsDirectory: Sendable {
    public var root: URL

    public init(path: String) {
        root = URL(fileURLWithPath: path)
    }

    private var stateDirectory: URL { root.appendingPathComponent("state") }

    /// The last recorded run of `phase`, if any.
    public func lastRecord(of phase: PhaseName) -> PhaseRecord? {
        guard let data = try? Data(contentsOf: stateDirectory.appendingPathComponent("\(phase.rawValue).json")) else { return nil }
        return try? Self.decoder.decode(PhaseRecord.self, from: data)
    }

    /// Writes the run's JSON and Markdown records and makes it the phase's last state; returns both paths.
    @discardableResult
    public func save(_ record: PhaseRecord) throws -> (json: String, markdown: String) {
        let directory = root.appendingPathComponent(record.phase.rawValue)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: stateDirectory, withIntermediateDirectories: true)
        let stamp = Self.stampFormatter.string(from: record.startedAt)
        let json = directory.appendingPathComponent("\(record.phase.rawValue)-\(stamp).json")
        let markdown = directory.appendingPathComponent("\(record.phase.rawValue)-\(stamp).md")
        let data = try Self.encoder.encode(record)
        try data.write(to: json, options: .atomic)
        try Data(RecordMarkdown.render(record).utf8).write(to: markdown, options: .atomic)
        // Written last and atomically: a run that dies half-way never leaves a torn state file behind.
        try data.write(to: stateDirectory.appendingPathComponent("\(record.phase.rawValue).json"), options: .atomic)
        return (json.path, markdown.path)
    }

    /// Keeps a copy of the run's `.env` (seed §9.3: the configuration is backed up) as
    /// `<phase>/env-<stamp>.env`, readable by the owner alone: it holds the stack's passwords, and the data
    /// volumes answer only to them.
    public func backUpEnvFile(_ path: String, phase: PhaseName, at time: Date = Date()) throws -> String {
        let directory = root.appendingPathComponent(phase.rawValue)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let copy = directory.appendingPathComponent("env-\(Self.stampFormatter.string(from: time)).env").path
        // Created 0600 before a byte is written, so no other user can ever read the passwords in it.
        let descriptor = open(copy, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: copy]) }
        defer { close(descriptor) }
        let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == data.count, fchmod(descriptor, 0o600) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: copy])
        }
        return copy
    }

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

    /// Pretty, key-sorted JSON with ISO 8601 dates: how every record and report twin under `reports/` is written.
    package static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    public static let stampFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter
    }()
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

/// An exclusive lock on `reports/.cdbctl.lock`, so two runs (a cron monitor and an operator's stop) never overlap.
///
/// `flock` is released by the kernel when the holder dies, so a lock left by a crashed run is stale by
/// construction: the next run takes it and says whose it was.
public final class RunLock {
    public let path: String
    private let descriptor: Int32
    /// Set when the lock file named a holder that is gone.
    public private(set) var staleHolder: String?

    public init(directory: String, command: String) throws(LockHeld) {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/.cdbctl.lock"
        descriptor = open(path, O_RDWR | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw LockHeld(holder: "cannot open \(path): \(String(cString: strerror(errno)))") }
        let previous = Self.read(descriptor)
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw LockHeld(holder: previous.isEmpty ? "another cdbctl run" : previous)
        }
        if !previous.isEmpty { staleHolder = previous }
        ftruncate(descriptor, 0)
        let holder = "pid \(getpid()) running '\(command)' since \(ISO8601DateFormatter().string(from: Date()))"
        _ = holder.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    private var released = false

    /// Empties the lock file and unlocks it, so the next run sees a clean hand-over (not a stale lock).
    public func release() {
        guard !released else { return }
        released = true
        ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    deinit {
        release()
    }

    private static func read(_ descriptor: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
    }
}

/// Another run holds the lock: exit code 3.
public struct LockHeld: Error, CustomStringConvertible {
    public var holder: String
    public var description: String { "another cdbctl run holds the lock: \(holder)" }
    public static let exitCode: Int32 = 3
}

/// A file under `reports/` that could not be written, or a report template that could not be read.
public struct ReportError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }
}
