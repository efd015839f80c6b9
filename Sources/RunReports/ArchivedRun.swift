import Foundation
import LocalServers
import PostgresClient
import Runbook

/// A stopped run as the stop left it: the final backup (the stop's `backup` step) and the archived container logs
/// (its `archive_logs` step), both under the reports directory. The post-run reads them when the stack is down.
public struct ArchivedRun: Sendable {
    public var backup: String
    public var logsDirectory: String

    /// Finds the newest verified backup and the newest log archive in the folders the runbook's stop phase writes to.
    public init(definition: RunbookDefinition, reportsDirectory: String) throws(ReportError) {
        let stop = definition.phase(.stop).steps
        func folder(_ directory: String?) -> String? {
            directory.map { $0.hasPrefix("/") ? $0 : reportsDirectory + "/" + $0 }
        }
        guard let backups = folder(stop.lazy.compactMap { ($0.check as? BackupCheck)?.directory }.first),
              let backup = Backups.newest(in: backups) else {
            throw ReportError(message: "the stack is down and there is no final backup to analyse (the stop's backup step writes one; looked in \(reportsDirectory))")
        }
        guard let logs = folder(stop.lazy.compactMap { ($0.check as? ArchiveLogsCheck)?.directory }.first),
              let newest = ((try? FileManager.default.contentsOfDirectory(atPath: logs)) ?? []).sorted().last else {
            throw ReportError(message: "the stack is down and the stop archived no logs (looked in \(reportsDirectory))")
        }
        self.backup = backup
        logsDirectory = logs + "/" + newest
    }

    /// The final backup restored into a throwaway PostgreSQL on loopback (`initdb` in a temporary directory); the
    /// server lives as long as the returned value.
    public func restoreIntoScratchDatabase() async throws -> (server: LocalPostgresServer, database: PostgresConfiguration) {
        let server: LocalPostgresServer
        do {
            server = try await LocalPostgresServer()
        } catch {
            throw ReportError(message: "cannot start a scratch PostgreSQL for the final backup: \(error) (scripts/setup.sh installs it)")
        }
        let database = server.configuration()
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = database.password ?? ""
        let restored = try await runCommand("pg_restore", ["-h", database.host, "-p", "\(database.port)", "-U", database.user, "-d", database.database,
                                                          "--no-owner", "--exit-on-error", backup],
                                            environment: environment, timeout: .seconds(600))
        guard restored.status == 0 else {
            await server.stop()
            throw ReportError(message: "pg_restore of \(backup) into the scratch database failed (\(restored.status)): \(restored.output.prefix(400))")
        }
        return (server, database)
    }
}
