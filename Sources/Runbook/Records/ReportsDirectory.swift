import Foundation

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
