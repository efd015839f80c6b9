import Foundation
import LocalServers
import Runbook
import Testing

/// The cdbctl executable built next to this test bundle, run as an operator (or cron) runs it.
enum CDBCtl {
    static let path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cdbctl").path

    static func run(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) async throws -> CommandOutput {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        env.merge(environment) { _, new in new }
        return try await runCommand(path, arguments, environment: env, workingDirectory: directory.path, timeout: .seconds(120))
    }
}

@Suite("cdbctl as a command")
struct CDBCtlCommandTests {
    func project(runbook: String) throws -> URL {
        let directory = try scratchDirectory("cdbctl-project")
        try runbook.write(to: directory.appendingPathComponent("runbook.yaml"), atomically: true, encoding: .utf8)
        return directory
    }

    @Test("a usage error exits 2 as documented (not ArgumentParser's 64); --version prints the version, exit 0")
    func usageErrorsAndVersion() async throws {
        let directory = FileManager.default.temporaryDirectory
        let bogus = try await CDBCtl.run(["--bogus"], in: directory)
        #expect(bogus.status == 2)
        #expect(bogus.output.contains("Unknown option '--bogus'"))
        let badValue = try await CDBCtl.run(["health", "--timeout", "soon"], in: directory)
        #expect(badValue.status == 2, "\(badValue.output)")
        let version = try await CDBCtl.run(["--version"], in: directory)
        #expect(version.status == 0)
        #expect(version.output.split(separator: ".").count == 3, "\(version.output)")
    }

    @Test("validate: exit 2 and every located error on stderr; exit 0 on the project's runbook")
    func validate() async throws {
        let directory = try project(runbook: "version: 1\nphases:\n  go:\n    - { id: a, title: A, seed: \"2.5\", check: { type: htpp } }\n")
        let broken = try await CDBCtl.run(["validate"], in: directory)
        #expect(broken.status == 2)
        #expect(broken.output.contains("runbook.yaml:4:54: unknown check type 'htpp' (did you mean 'http'?)"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let valid = try await CDBCtl.run(["validate"], in: root)
        #expect(valid.status == 0, "\(valid.output)")
    }

    @Test("a phase records its verdict, its Markdown twin and audit lines; exit 1 when a critical step fails")
    func preflightRecords() async throws {
        let redis = try await SharedServers.redis()
        let directory = try project(runbook: """
            version: 1
            phases:
              preflight:
                - { id: redis, title: Redis answers, seed: "2.1", check: { type: redis, op: ping } }
                - { id: env, title: Env, seed: "2.1", check: { type: env, rules: [{ name: POSTGRES_PASSWORD, min_length: 8 }] } }
            """)
        try "REDIS_PORT=\(redis.port)\nPOSTGRES_PASSWORD=short\n".write(to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let result = try await CDBCtl.run(["preflight"], in: directory)
        #expect(result.status == 1)
        #expect(result.output.contains("POSTGRES_PASSWORD: must be at least 8 characters, has 5"))
        #expect(result.output.contains("preflight: FAIL"))
        let record = ReportsDirectory(path: directory.appendingPathComponent("reports").path).lastRecord(of: .preflight)
        #expect(record?.results.map(\.status) == [.pass, .fail])
        let audit = try String(contentsOf: directory.appendingPathComponent("reports/audit.jsonl"), encoding: .utf8)
        #expect(audit.split(separator: "\n").count == 3)  // two steps and the verdict

        let json = try await CDBCtl.run(["preflight", "--json"], in: directory)
        let document = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect(document?["verdict"] as? String == "FAIL")
    }

    @Test("go without a preflight on record is NO-GO with the reason, exit 1")
    func goWithoutPreflight() async throws {
        let redis = try await SharedServers.redis()
        let directory = try project(runbook: """
            version: 1
            phases:
              go:
                - { id: redis, title: Redis answers, seed: "2.5", check: { type: redis, op: ping } }
            """)
        let result = try await CDBCtl.run(["go"], in: directory, environment: ["REDIS_PORT": "\(redis.port)"])
        #expect(result.status == 1)
        #expect(result.output.contains("NO-GO because:"))
        #expect(result.output.contains("no preflight on record: run cdbctl preflight first"))
        #expect(ReportsDirectory(path: directory.appendingPathComponent("reports").path).lastRecord(of: .go)?.verdict == .noGo)
    }

    @Test("a second run while one holds the lock exits 3 naming the holder")
    func lockHeld() async throws {
        let directory = try project(runbook: "version: 1\nphases:\n  monitor:\n    - { id: w, title: W, seed: \"4.1\", check: { type: wait, duration: 1s } }\n")
        let lock = try RunLock(directory: directory.appendingPathComponent("reports").path, command: "stop")
        defer { lock.release() }
        let result = try await CDBCtl.run(["monitor"], in: directory)
        #expect(result.status == 3)
        #expect(result.output.contains("another cdbctl run holds the lock: pid \(getpid()) running 'stop'"))
    }

    @Test("a bad .env value is a configuration error: exit 2, nothing run")
    func badEnvironment() async throws {
        let directory = try project(runbook: "version: 1\nphases:\n  monitor:\n    - { id: w, title: W, seed: \"4.1\", check: { type: wait, duration: 1s } }\n")
        try "POSTGRES_PORT=abc\n".write(to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let result = try await CDBCtl.run(["monitor"], in: directory)
        #expect(result.status == 2)
        #expect(result.output.contains("POSTGRES_PORT: expected an integer, got 'abc'"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("reports/monitor").path))
    }
}
