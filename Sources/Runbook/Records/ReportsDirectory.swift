import Foundation

/// The `reports/` directory: per-run records (JSON + Markdown), last results per phase, and the audit log.
/// Everything written here is private to the operator (`OperatorFiles`) with the secrets masked.
public struct ReportsDirectory: Sendable {
    public var root: URL
    /// Applied to every record and audit line written; a directory only read from needs none.
    public var mask: SecretMask

    public init(path: String, mask: SecretMask = .urlPasswordsOnly) {
        root = URL(fileURLWithPath: path)
        self.mask = mask
    }

    /// `reports/<relative>` created (with `reports/` itself) 0700, looser ones tightened; its path.
    @discardableResult
    public func privateDirectory(_ relative: String = "") throws -> URL {
        let directory = relative.isEmpty ? root : root.appendingPathComponent(relative)
        try OperatorFiles.createPrivateDirectory(directory.path, under: root.path)
        return directory
    }

    /// `text`, masked, to `path` (0600, atomically).
    public func writeText(_ text: String, to path: String) throws {
        try OperatorFiles.writePrivateText(text, to: path, masking: mask)
    }

    private var stateDirectory: URL { root.appendingPathComponent("state") }

    /// The last recorded run of `phase`, if any.
    public func lastRecord(of phase: PhaseName) -> PhaseRecord? {
        guard let data = try? Data(contentsOf: stateDirectory.appendingPathComponent("\(phase.rawValue).json")) else { return nil }
        return try? Self.decoder.decode(PhaseRecord.self, from: data)
    }

    /// Every recorded run of `phase`, oldest first.
    public func records(of phase: PhaseName) -> [PhaseRecord] {
        let directory = root.appendingPathComponent(phase.rawValue)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasPrefix(phase.rawValue + "-") && $0.hasSuffix(".json") }.sorted()
        return names.compactMap { name in
            (try? Data(contentsOf: directory.appendingPathComponent(name))).flatMap { try? Self.decoder.decode(PhaseRecord.self, from: $0) }
        }
    }

    /// Writes the run's JSON and Markdown records and makes it the phase's last state; returns both paths.
    @discardableResult
    public func save(_ record: PhaseRecord) throws -> (json: String, markdown: String) {
        let directory = try privateDirectory(record.phase.rawValue)
        try privateDirectory("state")
        let stamp = Self.stampFormatter.string(from: record.startedAt)
        let json = directory.appendingPathComponent("\(record.phase.rawValue)-\(stamp).json")
        let markdown = directory.appendingPathComponent("\(record.phase.rawValue)-\(stamp).md")
        let text = String(decoding: try Self.encoder.encode(record), as: UTF8.self)
        try writeText(text, to: json.path)
        try writeText(RecordMarkdown.render(record), to: markdown.path)
        // Written last and atomically: a run that dies half-way never leaves a torn state file behind.
        try writeText(text, to: stateDirectory.appendingPathComponent("\(record.phase.rawValue).json").path)
        return (json.path, markdown.path)
    }

    /// Keeps a copy of the run's `.env` (seed §9.3: the configuration is backed up) as
    /// `<phase>/env-<stamp>.env`, readable by the owner alone: it holds the stack's passwords, and the data
    /// volumes answer only to them.
    public func backUpEnvFile(_ path: String, phase: PhaseName, at time: Date = Date()) throws -> String {
        let directory = try privateDirectory(phase.rawValue)
        let copy = directory.appendingPathComponent("env-\(Self.stampFormatter.string(from: time)).env").path
        // Unmasked on purpose: the copy is what the data volumes are opened with again.
        try OperatorFiles.writePrivateFile(try Data(contentsOf: URL(fileURLWithPath: path)), to: copy)
        return copy
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

/// A file under `reports/` that could not be written, or a report template that could not be read.
public struct ReportError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }
}
