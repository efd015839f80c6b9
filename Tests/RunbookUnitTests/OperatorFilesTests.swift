import Foundation
import Runbook
import Testing

private func mode(_ path: String) throws -> Int {
    try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
}

/// Every file under `directory`, recursively, with its text.
private func contents(of directory: URL) throws -> [(path: String, text: String)] {
    try FileManager.default.subpathsOfDirectory(atPath: directory.path).sorted().compactMap { name in
        let path = directory.appendingPathComponent(name).path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        return (path, try String(contentsOfFile: path, encoding: .utf8))
    }
}

private func temporaryReports() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("operator-files-\(UUID().uuidString)/reports")
}

/// umask is per process and the suites run in parallel: these tests are serialized among themselves and set only
/// 022, the usual default, which every other test expects anyway.
@Suite("reports/ is the operator's alone: 0700 directories, 0600 files, secrets masked", .serialized)
struct OperatorFilesTests {
    static let password = "Pg-Pa55word!x"
    static let environment = ["POSTGRES_PASSWORD": password, "REDIS_PASSWORD": "abc", "SMTP_URL": "smtp://alerts:Sm7p-secret@mail.example.org:587"]

    static func record(detail: String) -> PhaseRecord {
        PhaseRecord(phase: .monitor, verdict: .pass, startedAt: Date(timeIntervalSince1970: 1_796_169_600), finishedAt: Date(timeIntervalSince1970: 1_796_169_660),
                    results: [StepResult(id: "database", title: "Database", seed: "4.1", severity: .critical, status: .pass, detail: detail, attempts: 1,
                                         startedAt: Date(timeIntervalSince1970: 1_796_169_600), durationMs: 1, figures: [:], playbook: nil)])
    }

    @Test("under umask 022 a record, the state and the audit log are written 0600 in 0700 directories")
    func privateUnderUmask() throws {
        let previous = umask(0o022)
        defer { umask(previous) }
        let root = temporaryReports()
        defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
        let reports = ReportsDirectory(path: root.path, mask: SecretMask(environment: Self.environment))
        let paths = try reports.save(Self.record(detail: "ok"))
        reports.audit(command: "monitor", action: "verdict", outcome: "pass")
        for directory in [root.path, root.appendingPathComponent("monitor").path, root.appendingPathComponent("state").path] {
            #expect(try mode(directory) == 0o700, "\(directory)")
        }
        for file in [paths.json, paths.markdown, root.appendingPathComponent("state/monitor.json").path, root.appendingPathComponent("audit.jsonl").path] {
            #expect(try mode(file) == 0o600, "\(file)")
        }
    }

    @Test("a looser directory and file from before are tightened when cdbctl next writes there")
    func tightened() throws {
        let previous = umask(0o022)
        defer { umask(previous) }
        let root = temporaryReports()
        defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("state"), withIntermediateDirectories: true)
        let audit = root.appendingPathComponent("audit.jsonl")
        try Data("{}\n".utf8).write(to: audit)
        let state = root.appendingPathComponent("state/monitor.json")
        try Data("{}".utf8).write(to: state)
        #expect(try mode(root.path) == 0o755 && mode(audit.path) == 0o644)
        let reports = ReportsDirectory(path: root.path)
        try reports.save(Self.record(detail: "ok"))
        reports.audit(command: "monitor", action: "verdict", outcome: "pass")
        #expect(try mode(root.path) == 0o700)
        #expect(try mode(root.appendingPathComponent("state").path) == 0o700)
        #expect(try mode(audit.path) == 0o600)
        #expect(try mode(state.path) == 0o600)
        #expect(try String(contentsOf: audit, encoding: .utf8).hasPrefix("{}\n"), "the lines before stay")
    }

    @Test("a password in a step's detail and in an audit line is in no file written, nor a URL's password")
    func secretsMasked() throws {
        let root = temporaryReports()
        defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
        let reports = ReportsDirectory(path: root.path, mask: SecretMask(environment: Self.environment))
        let detail = "psql: password \(Self.password) rejected for postgres://cdb:\(Self.password)@127.0.0.1:5432/db; "
            + "mail via smtp://alerts:Sm7p-secret@mail.example.org:587; quoted \"\(Self.password)\"; other postgres://u:Other-pw9@h/d"
        try reports.save(Self.record(detail: detail))
        reports.audit(command: "monitor", action: "verdict", outcome: "fail", detail: detail)
        let files = try contents(of: root)
        #expect(files.count == 4)
        for file in files {
            #expect(!file.text.contains(Self.password), "\(file.path)")
            #expect(!file.text.contains("Sm7p-secret"), "\(file.path)")
            #expect(!file.text.contains("Other-pw9"), "\(file.path)")
            #expect(file.text.contains("postgres://cdb:****@127.0.0.1"), "\(file.path)")
        }
    }

    @Test("the mask replaces each secret of four characters or more, the longest first, and URL passwords")
    func maskRules() {
        let mask = SecretMask(environment: ["POSTGRES_PASSWORD": "hunter22", "RISK_RESET_TOKEN": "hunter22-token", "REDIS_PASSWORD": "abc",
                                            "LOG_LEVEL": "INFO"])
        #expect(mask.apply("a hunter22-token and hunter22, abc and INFO") == "a **** and ****, abc and INFO")
        #expect(SecretMask.urlPasswordsOnly.apply("redis://:r3d1s@host:6379 http://example.org/a:b@c") == "redis://:****@host:6379 http://example.org/a:b@c")
    }
}
