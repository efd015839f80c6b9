import ChildProcesses
import DockerClient
import Foundation
import PostgresClient
import Primitives
import YAMLParser

/// `type: backup`: `pg_dump` into `directory`, listed and optionally restored; with `acceptRecent`, a stack that is
/// already down passes when a backup younger than that exists (a re-run of a stop). With `every`, a backup younger
/// than that is kept and no new one taken (the monitor's daily backup).
public struct BackupCheck: CheckType {
    public var directory: String
    public var restoreCheck: Bool
    public var acceptRecent: Duration?
    public var every: Duration?

    public static let typeName = "backup"
    public static let keys = ["directory", "restore_check", "accept_recent", "every"]

    public static func decode(from reader: CheckReader) -> BackupCheck? {
        BackupCheck(directory: reader.optional("directory", as: String.self) ?? "backups",
                    restoreCheck: reader.optional("restore_check", as: Bool.self) ?? true,
                    acceptRecent: reader.optional("accept_recent", as: Duration.self),
                    every: reader.optional("every", as: Duration.self))
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        if let every, let kept = BackupCandidates(folder: context.outputFolder(directory)).newest, kept.age <= every.seconds {
            return .pass("\(kept.path) is \(Int(kept.age / 3600)) h \(Int(kept.age / 60) % 60) min old (a new one every \(every.secondsText))")
        }
        return try await context.backup(directory: directory, restoreCheck: restoreCheck, acceptRecent: acceptRecent, timeout: context.step.timeout)
    }
}

extension CheckContext {
    fileprivate func backup(directory: String, restoreCheck: Bool, acceptRecent: Duration?, timeout: Duration) async throws -> CheckOutcome {
        let folder = try privateOutputFolder(directory)
        let stamp = ReportsDirectory.stampFormatter.string(from: Date())
        let file = "\(folder)/claire_de_binare-\(stamp).dump"
        // Written under a name no candidate search matches, and renamed only once pg_dump succeeded and the file
        // proved itself: a dump cut short by a full disk or a killed pg_dump is never taken for the newest backup.
        let partial = "\(folder)/.claire_de_binare-\(stamp).dump.partial"
        defer { try? FileManager.default.removeItem(atPath: partial) }
        let postgres = stack.postgres
        let (connection, environment) = postgresClientArguments()
        let dump = try await runCommand("pg_dump", connection + ["-d", postgres.database, "-Fc", "-f", partial],
                                        environment: environment, timeout: timeout)
        guard dump.status == 0, !dump.timedOut else {
            if let acceptRecent, let recent = await recentBackupWhileDown(folder: folder, within: acceptRecent) { return recent }
            return .fail("pg_dump of \(postgres.endpoint) failed (\(dump.status)): \(dump.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        try OperatorFiles.makePrivateFile(partial)
        let size = (try? FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int) ?? 0
        let listing = try await runCommand("pg_restore", ["--list", partial], timeout: .seconds(30))
        let tables = Set(listing.output.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard let index = words.firstIndex(of: "TABLE"), words.count > index + 2, !line.contains("TABLE DATA") else { return nil }
            return String(words[index + 2])
        })
        let missing = Self.requiredBackupTables.filter { !tables.contains($0) }
        guard listing.status == 0, size > 0, missing.isEmpty else {
            return .fail("backup \(file) (\(size) bytes) is not usable, not kept: "
                         + (listing.status != 0 ? listing.output : size == 0 ? "empty" : "tables missing: \(missing.joined(separator: ", "))"))
        }
        var detail = "\(file) (\(size / 1024) KiB, \(tables.count) tables)"
        if restoreCheck {
            // Restored into a scratch database on the same server, counted, dropped: proof the file restores.
            let scratch = "cdb_restore_check_\(UUID().uuidString.prefix(8).lowercased())"
            let admin = try await PostgresConnection(postgres.with(database: postgres.database))
            try await admin.execute("CREATE DATABASE \(scratch)")
            let restored: Result<String, any Error>
            do {
                let restore = try await runCommand("pg_restore", connection + ["-d", scratch, "--no-owner", partial], environment: environment, timeout: timeout)
                if restore.status != 0 { throw ChildProcessError(message: "\(file) does not restore: \(restore.output.prefix(300))") }
                let check = try await PostgresConnection(postgres.with(database: scratch))
                restored = .success(try await check.query("SELECT COUNT(*) AS n FROM signals").first?["n"] ?? "?")
                await check.close()
            } catch {
                restored = .failure(error)
            }
            // Dropped before returning, pass or fail: a check must not leave databases behind.
            _ = try? await admin.execute("DROP DATABASE IF EXISTS \(scratch)")
            await admin.close()
            switch restored {
            case .success(let count): detail += "; restores (\(count) signals)"
            case .failure(let error): return .fail("\(error)")
            }
        }
        guard let sha256 = BackupCandidates.sha256(ofFile: partial) else { return .fail("cannot read back \(partial) to fingerprint it") }
        let verification = BackupVerification(file: URL(fileURLWithPath: file).lastPathComponent, size: size, sha256: sha256,
                                              tables: tables.sorted(), verifiedAt: Date())
        guard rename(partial, file) == 0 else { return .fail("cannot rename \(partial) to \(file): \(String(cString: strerror(errno)))") }
        // The record goes last: a dump without one (a crash in between) is simply not a candidate.
        try OperatorFiles.writePrivateJSON(verification, to: BackupVerification.path(for: file), under: reportsDirectory, masking: .urlPasswordsOnly)
        return .pass(detail + "; verified (sha256 \(sha256.prefix(12))…)", figures: ["backup_bytes": Double(size)])
    }

    /// What a dump of the stack's database must contain to count as a backup of it.
    fileprivate static let requiredBackupTables = ["signals", "orders", "trades", "positions", "portfolio_snapshots"]

    /// When the stack is already down (a stop run again), the backup taken before going down stands in, if fresh.
    fileprivate func recentBackupWhileDown(folder: String, within age: Duration) async -> CheckOutcome? {
        guard let engine = try? DockerEngine(environment: environment, project: runbook.project),
              let containers = try? await engine.containers(), containers.isEmpty else { return nil }
        guard let newest = BackupCandidates(folder: folder).newest, newest.age <= age.seconds else { return nil }
        return .pass("stack already down (project '\(runbook.project)' has no containers); the backup taken before: \(newest.path), \(Int(newest.age / 60)) min old")
    }
}
