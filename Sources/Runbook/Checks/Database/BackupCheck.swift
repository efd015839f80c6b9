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
        if let every, let kept = CheckContext.newestBackup(in: context.outputFolder(directory)), kept.age <= every.seconds {
            return .pass("\(kept.path) is \(Int(kept.age / 3600)) h \(Int(kept.age / 60) % 60) min old (a new one every \(every.secondsText))")
        }
        return try await context.backup(directory: directory, restoreCheck: restoreCheck, acceptRecent: acceptRecent, timeout: context.step.timeout)
    }
}

extension CheckContext {
    fileprivate func backup(directory: String, restoreCheck: Bool, acceptRecent: Duration?, timeout: Duration) async throws -> CheckOutcome {
        let folder = outputFolder(directory)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let stamp = ReportsDirectory.stampFormatter.string(from: Date())
        let file = "\(folder)/claire_de_binare-\(stamp).dump"
        let postgres = stack.postgres
        let (connection, environment) = postgresClientArguments()
        let dump = try await runCommand("pg_dump", connection + ["-d", postgres.database, "-Fc", "-f", file],
                                        environment: environment, timeout: timeout)
        guard dump.status == 0 else {
            try? FileManager.default.removeItem(atPath: file)
            if let acceptRecent, let recent = await recentBackupWhileDown(folder: folder, within: acceptRecent) { return recent }
            return .fail("pg_dump of \(postgres.endpoint) failed (\(dump.status)): \(dump.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        let listing = try await runCommand("pg_restore", ["--list", file], timeout: .seconds(30))
        let tables = Set(listing.output.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard let index = words.firstIndex(of: "TABLE"), words.count > index + 2, !line.contains("TABLE DATA") else { return nil }
            return String(words[index + 2])
        })
        let required = ["signals", "orders", "trades", "positions", "portfolio_snapshots"]
        let missing = required.filter { !tables.contains($0) }
        guard listing.status == 0, size > 0, missing.isEmpty else {
            return .fail("backup \(file) (\(size) bytes) is not usable: " + (listing.status != 0 ? listing.output : "tables missing: \(missing.joined(separator: ", "))"))
        }
        var detail = "\(file) (\(size / 1024) KiB, \(tables.count) tables)"
        if restoreCheck {
            // Restored into a scratch database on the same server, counted, dropped: proof the file restores.
            let scratch = "cdb_restore_check_\(UUID().uuidString.prefix(8).lowercased())"
            let admin = try await PostgresConnection(postgres.with(database: postgres.database))
            try await admin.execute("CREATE DATABASE \(scratch)")
            let restored: Result<String, any Error>
            do {
                let restore = try await runCommand("pg_restore", connection + ["-d", scratch, "--no-owner", file], environment: environment, timeout: timeout)
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
        return .pass(detail, figures: ["backup_bytes": Double(size)])
    }

    /// When the stack is already down (a stop run again), the backup taken before going down stands in, if fresh.
    fileprivate func recentBackupWhileDown(folder: String, within age: Duration) async -> CheckOutcome? {
        guard let engine = try? DockerEngine(environment: environment, project: runbook.project),
              let containers = try? await engine.containers(), containers.isEmpty else { return nil }
        guard let newest = Self.newestBackup(in: folder), newest.age <= age.seconds else { return nil }
        return .pass("stack already down (project '\(runbook.project)' has no containers); the backup taken before: \(newest.path), \(Int(newest.age / 60)) min old")
    }
}
