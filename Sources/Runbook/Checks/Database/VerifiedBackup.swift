import Foundation
import Primitives

/// `<name>.dump.verified.json` beside a dump: what the backup check found the file to be right after pg_dump
/// wrote it. A dump counts as a backup (for a restore, for the destructive gate) only while it still matches.
public struct BackupVerification: Sendable, Codable, Equatable {
    public var file: String
    public var size: Int
    public var sha256: String
    /// The tables `pg_restore --list` found in it.
    public var tables: [String]
    public var verifiedAt: Date

    public init(file: String, size: Int, sha256: String, tables: [String], verifiedAt: Date) {
        self.file = file
        self.size = size
        self.sha256 = sha256
        self.tables = tables
        self.verifiedAt = verifiedAt
    }

    enum CodingKeys: String, CodingKey {
        case file, size, sha256, tables
        case verifiedAt = "verified_at"
    }

    /// The record's path for `dump`.
    public static func path(for dump: String) -> String { dump + ".verified.json" }
}

/// A dump with a matching verification record.
public struct VerifiedBackup: Sendable {
    public var path: String
    public var verification: BackupVerification
    public var modified: Date
    public var age: Double { Date().timeIntervalSince(modified) }
}

/// The dumps of a backup folder, judged: the newest verified one and why each newer one was passed over.
public struct BackupCandidates: Sendable {
    /// The newest dump that still matches its record; nil when none does.
    public var newest: VerifiedBackup?
    /// `name: why`, for dumps newer than `newest` that do not count (no record, changed since, …).
    public var skipped: [String]

    /// The dumps directly in `folder` (safety copies in subfolders never count), newest first, each held to its
    /// record with size and SHA-256 recomputed: a truncated or half-written dump is never the newest backup.
    public init(folder: String) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".dump") }
        let dumps = names.compactMap { name -> (path: String, modified: Date)? in
            let path = folder + "/" + name
            guard let modified = try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date else { return nil }
            return (path, modified)
        }.sorted { $0.modified > $1.modified }
        var skipped: [String] = []
        for dump in dumps {
            switch Self.verification(of: dump.path) {
            case .success(let verification):
                newest = VerifiedBackup(path: dump.path, verification: verification, modified: dump.modified)
                self.skipped = skipped
                return
            case .failure(let problem):
                skipped.append("\(URL(fileURLWithPath: dump.path).lastPathComponent): \(problem.message)")
            }
        }
        self.skipped = skipped
    }

    /// The record of `dump` when the file still has its size and SHA-256.
    static func verification(of dump: String) -> Result<BackupVerification, ReportError> {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: BackupVerification.path(for: dump))) else {
            return .failure(ReportError(message: "not verified (no \(URL(fileURLWithPath: BackupVerification.path(for: dump)).lastPathComponent))"))
        }
        guard let record = try? ReportsDirectory.decoder.decode(BackupVerification.self, from: data) else {
            return .failure(ReportError(message: "its verification record cannot be read"))
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: dump)[.size] as? Int) ?? -1
        guard size == record.size else { return .failure(ReportError(message: "\(size) bytes, verified at \(record.size): changed or truncated since")) }
        guard let digest = sha256(ofFile: dump), digest == record.sha256 else {
            return .failure(ReportError(message: "its SHA-256 differs from the verified one: changed since"))
        }
        return .success(record)
    }

    /// The file's SHA-256 as hex, read in pieces; nil when it cannot be read.
    static func sha256(ofFile path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var digest = SHA256Digest()
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty { digest.update(chunk) }
        return digest.finishHex()
    }

    /// Names what was passed over, for a message: "" when nothing was.
    public var skippedText: String {
        skipped.isEmpty ? "" : " (passed over: " + skipped.joined(separator: "; ") + ")"
    }
}
