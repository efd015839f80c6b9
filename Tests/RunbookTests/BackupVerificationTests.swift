import Foundation
import Primitives
import Runbook
import Testing

/// Writes the verification record that matches the dump at `url`, as the backup check leaves one beside a dump.
func recordVerification(ofDump url: URL, at time: Date = Date()) throws {
    let bytes = try Data(contentsOf: url)
    var digest = SHA256Digest()
    digest.update(bytes)
    let record = BackupVerification(file: url.lastPathComponent, size: bytes.count, sha256: digest.finishHex(),
                                    tables: ["orders", "portfolio_snapshots", "positions", "signals", "trades"], verifiedAt: time)
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    try encoder.encode(record).write(to: URL(fileURLWithPath: BackupVerification.path(for: url.path)))
}

/// Writes `bytes` as a dump with a verification record that matches it.
func writeVerifiedDump(_ bytes: String, at url: URL, modified: Date = Date()) throws {
    try Data(bytes.utf8).write(to: url)
    try recordVerification(ofDump: url, at: modified)
    try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: url.path)
}

@Suite("Backups count only once verified (real PostgreSQL)")
struct BackupVerificationTests {
    static let restoreStep = """
          - { id: restore, title: Restore, seed: "5.4", destructive: true, timeout: 2m, check: { type: restore, directory: backups } }
    """

    @Test("a backup is kept 0600 beside its verification record; a truncated newer dump is passed over by the restore, which says so")
    func truncatedNewestSkipped() async throws {
        var (fixture, _) = try await reportFixture()
        let backup = try #require(try await fixture.run("""
              - { id: backup, title: Backup, seed: "2.3", timeout: 2m, check: { type: backup, directory: backups, restore_check: false } }
        """)["backup"])
        #expect(backup.status == .pass, "\(backup.detail)")
        #expect(backup.detail.contains("; verified (sha256 "), "\(backup.detail)")
        let folder = fixture.directory.appendingPathComponent("reports/backups")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        let dumpName = try #require(names.first { $0.hasSuffix(".dump") })
        #expect(names == [dumpName, dumpName + ".verified.json"], "no partial file is left")
        let dump = folder.appendingPathComponent(dumpName)
        #expect(try FileManager.default.attributesOfItem(atPath: dump.path)[.posixPermissions] as? Int == 0o600)
        let record = try JSONDecoder.iso8601.decode(BackupVerification.self, from: Data(contentsOf: URL(fileURLWithPath: BackupVerification.path(for: dump.path))))
        let size = try #require(FileManager.default.attributesOfItem(atPath: dump.path)[.size] as? Int)
        #expect(record.size == size && record.sha256.count == 64 && record.tables.contains("trades"))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-120)], ofItemAtPath: dump.path)

        // A newer dump whose pg_dump was cut short: its record promises the whole file.
        let truncated = folder.appendingPathComponent("claire_de_binare-20991231T000000Z.dump")
        try Data(try Data(contentsOf: dump).prefix(size / 2)).write(to: truncated)
        try FileManager.default.copyItem(atPath: BackupVerification.path(for: dump.path), toPath: BackupVerification.path(for: truncated.path))

        fixture.executor.command.confirmedDestructive = true
        let restored = try #require(try await fixture.run(Self.restoreStep)["restore"])
        #expect(restored.status == .pass, "\(restored.detail)")
        #expect(restored.detail.hasPrefix("restored \(dump.path) ("), "\(restored.detail)")
        #expect(restored.detail.contains("passed over: claire_de_binare-20991231T000000Z.dump: \(size / 2) bytes, verified at \(size): changed or truncated since"),
                "\(restored.detail)")
    }

    @Test("the destructive gate refuses when only unverified or altered dumps exist, naming what is wrong with each")
    func onlyUnverified() async throws {
        var fixture = try await EngineFixture()
        fixture.executor.command.confirmedDestructive = true
        let folder = fixture.directory.appendingPathComponent("reports/backups")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("no record".utf8).write(to: folder.appendingPathComponent("claire_de_binare-20261201T000000Z.dump"))
        let altered = folder.appendingPathComponent("claire_de_binare-20261130T000000Z.dump")
        try writeVerifiedDump("original", at: altered, modified: Date().addingTimeInterval(-60))
        try Data("0riginal".utf8).write(to: altered)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-60)], ofItemAtPath: altered.path)

        let refused = try #require(try await fixture.run(Self.restoreStep)["restore"])
        #expect(refused.status == .fail)
        #expect(refused.detail == "refused: 'restore' destroys data and there is no verified backup in \(folder.path) to fall back on (passed over: "
            + "claire_de_binare-20261201T000000Z.dump: not verified (no claire_de_binare-20261201T000000Z.dump.verified.json); "
            + "claire_de_binare-20261130T000000Z.dump: its SHA-256 differs from the verified one: changed since)", "\(refused.detail)")
    }
}

extension JSONDecoder {
    fileprivate static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
