import ChildProcesses
import Foundation
import PostgresClient
import Primitives
import RedisClient
import StackContract
import YAMLParser

/// `type: restore`: the newest verified backup of `directory` (`BackupCandidates`) restored over the database (`pg_restore --clean`, one
/// transaction), its row counts verified; then `replayGroup` is set back to the backup's time so the writer stores
/// again what came later (idempotent by event id). Destructive.
public struct RestoreCheck: CheckType {
    public var directory: String
    public var replayGroup: String?

    public static let typeName = "restore"
    public static let keys = ["directory", "replay_group"]

    public static func decode(from reader: CheckReader) -> RestoreCheck? {
        RestoreCheck(directory: reader.optional("directory", as: String.self) ?? "backups",
                     replayGroup: reader.optional("replay_group", as: String.self))
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.restore(directory: directory, replayGroup: replayGroup, timeout: context.step.timeout)
    }
}

extension CheckContext {
    fileprivate static let restoredTables = ["signals", "orders", "trades", "positions", "portfolio_snapshots", "risk_events"]

    fileprivate func restore(directory: String, replayGroup: String?, timeout: Duration) async throws -> CheckOutcome {
        let folder = outputFolder(directory)
        let candidates = BackupCandidates(folder: folder)
        guard let backup = candidates.newest else { return .fail("no verified backup in \(folder)\(candidates.skippedText)") }
        let postgres = stack.postgres
        let client = postgresClientArguments()
        // One transaction: a restore that fails half-way leaves the database as it was.
        let restored = try await runCommand("pg_restore", client.arguments + [
            "-d", postgres.database, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", backup.path,
        ], environment: client.environment, timeout: timeout)
        guard restored.status == 0 else {
            return .fail("pg_restore of \(backup.path) into \(postgres.endpoint) failed (\(restored.status)), the database is unchanged: "
                         + restored.output.trimmingCharacters(in: .whitespacesAndNewlines).prefix(400))
        }
        let db = try await PostgresConnection(postgres)
        defer { Task { await db.close() } }
        var counts: [String] = []
        var mismatches: [String] = []
        var figures: [String: Double] = [:]
        for table in Self.restoredTables {
            let expected = try await rowsInBackup(backup.path, table: table, environment: client.environment)
            let actual = try await db.query("SELECT COUNT(*) AS n FROM \(table)").first?["n"].flatMap(Int.init) ?? -1
            figures["rows.\(table)"] = Double(actual)
            counts.append("\(table) \(actual)")
            if actual != expected { mismatches.append("\(table) has \(actual) rows, the backup \(expected)") }
        }
        guard mismatches.isEmpty else { return .fail("restored \(backup.path) but " + mismatches.joined(separator: "; "), figures: figures) }
        var detail = "restored \(backup.path) (\(Int(backup.age / 60)) min old\(candidates.skippedText)): " + counts.joined(separator: ", ")
        if let replayGroup { detail += "; " + (try await replay(since: backup, group: replayGroup)) }
        return .pass(detail, figures: figures)
    }

    /// Rows of `table` in a custom-format dump: the lines of its COPY block.
    fileprivate func rowsInBackup(_ file: String, table: String, environment: [String: String]) async throws -> Int {
        let data = try await runCommand("pg_restore", ["--data-only", "--table=\(table)", "-f", "-", file], environment: environment, timeout: .seconds(60))
        guard data.status == 0 else { throw ChildProcessError(message: "pg_restore cannot read \(table) from \(file): \(data.output.prefix(200))") }
        var inCopy = false
        var rows = 0
        for line in data.output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("COPY ") { inCopy = true } else if line == "\\." { inCopy = false } else if inCopy { rows += 1 }
        }
        return rows
    }

    /// Sets `group` back to a minute before the backup was taken on every stream the writer consumes (`order_results`
    /// too: it completes the `orders` rows), so the writer stores again what came after it; the rows it already has
    /// are recognised by event id.
    fileprivate func replay(since backup: VerifiedBackup, group: String) async throws -> String {
        let name = URL(fileURLWithPath: backup.path).deletingPathExtension().lastPathComponent
        let taken = name.split(separator: "-").last.flatMap { ReportsDirectory.stampFormatter.date(from: String($0)) } ?? backup.modified
        let from = StreamID(milliseconds: UInt64(max(0, taken.timeIntervalSince1970 * 1000 - 60_000)))
        let redis = try await RedisConnection(stack.redis)
        defer { Task { await redis.close() } }
        var replayed: [String] = []
        var gaps: [String] = []
        for stream in BusStream.persisted.map(\.rawValue) where try await redis.groups(of: stream).contains(where: { $0.name == group }) {
            try await redis.setGroupID(stream, group: group, to: from.description)
            // The group's lag is now exactly what it will be handed again.
            let entries = try await redis.groups(of: stream).first { $0.name == group }?.lag ?? 0
            replayed.append("\(stream) \(entries)")
            // Entries trimmed from the stream (MAXLEN) after the backup's time cannot be stored again: the oldest entry
            // left is younger than the replay's start while entries were removed (Redis records trims in no other field).
            if let first = try await redis.firstEntryID(of: stream), first > from, (try await redis.removedEntries(of: stream) ?? 0) > 0 {
                gaps.append(stream)
            }
        }
        var text = "\(group) stores again what the bus holds since \(ReportsDirectory.stampFormatter.string(from: Date(timeIntervalSince1970: Double(from.milliseconds) / 1000))): "
            + (replayed.isEmpty ? "no stream has that group" : replayed.joined(separator: ", "))
        if !gaps.isEmpty { text += "; older entries of \(gaps.joined(separator: ", ")) were trimmed from the bus and stay lost" }
        return text
    }
}
