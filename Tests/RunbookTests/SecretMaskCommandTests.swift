import Foundation
import LocalServers
import Runbook
import Testing

@Suite("Secrets never reach what cdbctl prints or keeps")
struct SecretMaskCommandTests {
    static let password = "Leak-Pa55word"

    @Test("a password in a failed command's output is masked in the printed table, the record, the audit log and the kept output")
    func commandOutputMasked() async throws {
        let directory = try scratchDirectory("mask-command")
        let reports = directory.appendingPathComponent("reports")
        try """
            version: 1
            phases:
              preflight:
                - { id: leak, title: Leak, seed: "2.1", check: { type: command, run: [sh, -c, "echo the password is \(Self.password); exit 3"] } }
            """.write(to: directory.appendingPathComponent("runbook.yaml"), atomically: true, encoding: .utf8)
        let result = try await CDBCtl.run(["preflight", "--reports-dir", reports.path], in: directory,
                                          environment: ["POSTGRES_PASSWORD": Self.password, "DOCKER_HOST": "unix:///nonexistent/docker.sock"])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("the password is ****"), "\(result.output)")
        #expect(!result.output.contains(Self.password))
        let files = try FileManager.default.subpathsOfDirectory(atPath: reports.path).filter { !$0.hasSuffix("/") }
            .map { reports.appendingPathComponent($0).path }
            .filter { var isDirectory: ObjCBool = false; return FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && !isDirectory.boolValue }
        #expect(files.contains { $0.contains("/commands/") && $0.hasSuffix(".log") }, "\(files)")
        #expect(files.contains { $0.hasSuffix("audit.jsonl") }, "\(files)")
        for file in files where !file.hasSuffix(".cdbctl.lock") {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            #expect(!text.contains(Self.password), "\(file)")
            #expect(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int == 0o600, "\(file)")
        }
    }
}
