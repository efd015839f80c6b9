import Foundation
import LocalServers
import Runbook
import Testing

/// What a new operator meets first: `.env` read as data by cdbctl and the scripts, and a main job whose exit
/// status tells the truth.
@Suite("First run: .env as data, the main job's verdicts")
struct FirstRunTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A fresh folder holding `files` (name → text): the operator's project as the test needs it.
    func folder(_ files: [String: String] = [:]) throws -> URL {
        let directory = try scratchDirectory("cdb-first-run")
        for (name, text) in files { try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return directory
    }

    /// `bash scripts/run.sh ARGS` from the repository, with this build's cdbctl.
    func runScript(_ arguments: [String]) async throws -> CommandOutput {
        try await runCommand("/bin/bash", [Self.repositoryRoot.appendingPathComponent("scripts/run.sh").path] + arguments,
                             environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "CDBCTL": CDBCtl.path],
                             timeout: .seconds(120))
    }

    @Test("env export hands a shell the values of a Windows-edited .env; a line with $( ) is a located error and runs nothing")
    func exportIsData() async throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let marker = directory.appendingPathComponent("marker").path
        let good = "\u{FEFF}# edited on Windows\r\nPOSTGRES_PASSWORD=\"p4ss w0rd with spaces\"\r\nLOG_LEVEL='$(touch \(marker))'\r\nexport REDIS_PORT=6390\r\n"
        try good.write(to: directory.appendingPathComponent("good.env"), atomically: true, encoding: .utf8)
        let export = try await CDBCtl.run(["env", "export", "--env-file", "good.env"], in: directory)
        #expect(export.status == 0, "\(export.output)")
        let shell = try await runCommand("/bin/bash", ["-c", "set -eu; eval \"$1\"; printf '%s|%s|%s' \"$POSTGRES_PASSWORD\" \"$LOG_LEVEL\" \"$REDIS_PORT\"", "-", export.output],
                                         timeout: .seconds(10))
        #expect(shell.output == "p4ss w0rd with spaces|$(touch \(marker))|6390")

        try "REDIS_PORT=6390\nLOG_LEVEL=$(touch \(marker))\n".write(to: directory.appendingPathComponent("bad.env"), atomically: true, encoding: .utf8)
        let refused = try await CDBCtl.run(["env", "export", "--env-file", "bad.env"], in: directory)
        #expect(refused.status == 2)
        #expect(refused.output.contains("bad.env:2: '$' in the value of LOG_LEVEL"), "\(refused.output)")
        #expect(!FileManager.default.fileExists(atPath: marker), "a value was executed")
    }

    @Test("env check runs the preflight's env step alone: exit 0 on a CRLF file that holds, 1 naming the bad value, 2 on a broken line")
    func envCheck() async throws {
        let directory = try folder(["runbook.yaml": """
            version: 1
            phases:
              preflight:
                - { id: env, title: Env, seed: "2.1", check: { type: env, rules: [{ name: POSTGRES_PASSWORD, min_length: 8 }, { name: REDIS_PORT, type: port }] } }
                - { id: never, title: Never runs here, seed: "2.1", check: { type: command, run: [/bin/false] } }
            """, ".env": "POSTGRES_PASSWORD=long-enough\r\nREDIS_PORT=6390\r\n"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let passing = try await CDBCtl.run(["env", "check"], in: directory)
        #expect(passing.status == 0, "\(passing.output)")
        #expect(passing.output.contains("settings read from .env"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("reports/state/preflight.json").path))

        try "POSTGRES_PASSWORD=short\nREDIS_PORT=abc\n".write(to: directory.appendingPathComponent("bad.env"), atomically: true, encoding: .utf8)
        let failing = try await CDBCtl.run(["env", "check", "--env-file", "bad.env"], in: directory)
        #expect(failing.status == 1)
        #expect(failing.output.contains("POSTGRES_PASSWORD: must be at least 8 characters, has 5"))
        #expect(failing.output.contains("REDIS_PORT: expected an integer, got 'abc'"))

        try "POSTGRES_PASSWORD=long-enough\nREDIS_PORT=\"6390\n".write(to: directory.appendingPathComponent("broken.env"), atomically: true, encoding: .utf8)
        let broken = try await CDBCtl.run(["env", "check", "--env-file", "broken.env"], in: directory)
        #expect(broken.status == 2)
        #expect(broken.output.contains("broken.env:2: unterminated \" quote in the value of REDIS_PORT"))
    }

    @Test("run.sh exits with the failing gate's status and prints why: a hostile .env (2, nothing run), a failed preflight (1)")
    func mainJobExitStatus() async throws {
        let directory = try folder(["runbook.yaml": """
            version: 1
            phases:
              preflight:
                - { id: coverage, title: Coverage, seed: "2.2", severity: warning, check: { type: wait, duration: 0s } }
                - { id: broken-item, title: An item that fails, seed: "2.2", check: { type: command, run: [/bin/false] } }
              go:
                - { id: ready, title: Ready, seed: "2.5", check: { type: wait, duration: 0s } }
            """])
        defer { try? FileManager.default.removeItem(at: directory) }
        let options = ["--runbook", directory.appendingPathComponent("runbook.yaml").path,
                       "--reports-dir", directory.appendingPathComponent("reports").path]

        let marker = directory.appendingPathComponent("marker").path
        try "LOG_LEVEL=$(touch \(marker))\n".write(to: directory.appendingPathComponent("hostile.env"), atomically: true, encoding: .utf8)
        let hostile = try await runScript(["runbook", "--env-file", directory.appendingPathComponent("hostile.env").path] + options)
        #expect(hostile.status == 2, "\(hostile.output)")
        #expect(hostile.output.contains("hostile.env:1: '$' in the value of LOG_LEVEL"))
        #expect(hostile.output.contains("run: the paper run was not started"))
        #expect(!FileManager.default.fileExists(atPath: marker), "a value from .env was executed")

        try "LOG_LEVEL=info\n".write(to: directory.appendingPathComponent("plain.env"), atomically: true, encoding: .utf8)
        let failed = try await runScript(["runbook", "--env-file", directory.appendingPathComponent("plain.env").path] + options)
        #expect(failed.status == 1, "\(failed.output)")
        #expect(failed.output.contains("run: cdbctl preflight --skip coverage failed (exit 1)"))
        #expect(failed.output.contains("broken-item"))
        #expect(failed.output.contains("run: the paper run was not started"))
        #expect(!failed.output.contains("== cdbctl go"), "go ran after a failed preflight")
    }
}
