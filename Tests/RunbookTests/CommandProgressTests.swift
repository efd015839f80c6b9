import Foundation
import LocalServers
import Runbook
import Testing

/// A preflight whose one step runs a test-shaped script: it "builds", starts a suite, passes a test, and then
/// waits until the test has seen progress for it on cdbctl's stderr before it passes a second test and ends.
/// Progress shown only once the step is over can therefore never satisfy it: the script gives up after 60 s and
/// fails the step.
struct SlowTestProject {
    let directory: URL

    init() throws {
        directory = try scratchDirectory("cdbctl-progress")
        try """
            version: 1
            phases:
              preflight:
                - { id: unit-tests, title: Unit tests, seed: "2.2", timeout: 2m, check: { type: command, run: [bash, slow-tests.sh], min_passed: 2 } }
            """.write(to: directory.appendingPathComponent("runbook.yaml"), atomically: true, encoding: .utf8)
        try #"""
            echo "Building for debugging..."
            echo "[1/3] Compiling Demo Demo.swift"
            sleep 1
            echo "[3/3] Linking DemoPackageTests.xctest"
            echo "Build complete! (1.02s)"
            sleep 1
            # One write: the run's first lines reach cdbctl together, as one report.
            printf '%s\n' "◇ Test run started." '◇ Suite "Slow suite" started.' '✔ Test "one" passed after 0.1 seconds.'
            for _ in $(seq 600); do [ -e progress-seen ] && break; sleep 0.1; done
            [ -e progress-seen ] || { echo "no progress was seen while the tests ran"; exit 1; }
            echo '✔ Test "two" passed after 0.1 seconds.'
            echo '✔ Suite "Slow suite" passed after 0.2 seconds.'
            echo "✔ Test run with 2 tests in 1 suite passed after 0.3 seconds."
            """#.write(to: directory.appendingPathComponent("slow-tests.sh"), atomically: true, encoding: .utf8)
    }

    func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Runs `shell` (cdbctl as `$0`) in the project; once `watched` holds a line (cut at `\n` and `\r`, as a
    /// terminal's redraws are) with every one of `marks`,
    /// lets the script finish. Returns the command's result and whether the marks were seen before it ended.
    func run(_ shell: String, watching watched: String, for marks: [String]) async throws -> (CommandOutput, seenWhileRunning: Bool) {
        let running = Task {
            try await runCommand("/bin/bash", ["-c", shell, CDBCtl.path], environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"],
                                 workingDirectory: directory.path, timeout: .seconds(120))
        }
        var seen = false
        let deadline = ContinuousClock.now + .seconds(70)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: file(watched), encoding: .utf8)) ?? ""
            if text.split(whereSeparator: \.isNewline).contains(where: { line in marks.allSatisfy { line.contains($0) } }) {
                seen = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try Data().write(to: file("progress-seen"))
        return (try await running.value, seen)
    }
}

@Suite("A long command step shows its progress while it runs")
struct CommandProgressTests {
    @Test("in a log: plain lines on stderr while the step runs (building, then the suite and counts), none on stdout; --json stays one document")
    func log() async throws {
        let project = try SlowTestProject()
        let (result, seenWhileRunning) = try await project.run("exec \"$0\" preflight --json > stdout.json 2> stderr.log",
                                                               watching: "stderr.log", for: ["unit-tests", "testing, suite \"Slow suite\""])
        #expect(seenWhileRunning, "no progress line on stderr before the step finished")
        #expect(result.status == 0, "\(result.output)")

        let stdout = try Data(contentsOf: project.file("stdout.json"))
        let document = try #require(try JSONSerialization.jsonObject(with: stdout) as? [String: Any], "stdout is not one JSON document")
        #expect(document["verdict"] as? String == "PASS")
        let steps = try #require(document["results"] as? [[String: Any]])
        #expect(steps.first?["detail"] as? String == "2 passed, 0 failed, 0 skipped")

        let lines = try String(contentsOf: project.file("stderr.log"), encoding: .utf8).split(separator: "\n").map(String.init)
        let building = try #require(lines.firstIndex { $0.hasPrefix("cdbctl: unit-tests ") && $0.contains(" build") }, "\(lines)")
        let testing = try #require(lines.firstIndex { $0.contains("testing, suite \"Slow suite\": 1 passed, 0 failed") }, "\(lines)")
        let done = try #require(lines.firstIndex { $0.hasPrefix("cdbctl: unit-tests done after ") && $0.hasSuffix(": 2 passed, 0 failed") }, "\(lines)")
        #expect(building < testing && testing < done)
        // A log is not a terminal: no carriage returns or escape sequences, and not a line per heartbeat.
        #expect(!lines.contains { $0.contains("\r") || $0.contains("\u{1B}") })
        #expect(lines.count <= 6, "\(lines)")
    }

    @Test("on a terminal: one line redrawn in place on stderr while the step runs, cleared when it ends; stdout stays JSON")
    func terminal() async throws {
        let project = try SlowTestProject()
        // script(1) gives cdbctl a pseudo-terminal as stderr and records what it draws there; stdout goes to a file.
        let (result, seenWhileRunning) = try await project.run(
            "exec script -qfec \"$0 preflight --json > stdout.json\" terminal.log < /dev/null",
            watching: "terminal.log", for: ["\u{1B}[K  unit-tests ", "testing, suite \"Slow suite\": 1 passed, 0 failed"])
        #expect(seenWhileRunning, "no progress line on the terminal before the step finished")
        #expect(result.status == 0, "\(result.output)")
        #expect(try JSONSerialization.jsonObject(with: Data(contentsOf: project.file("stdout.json"))) is [String: Any])

        let drawn = try String(contentsOf: project.file("terminal.log"), encoding: .utf8)
        let redraws = drawn.components(separatedBy: "\r\u{1B}[K")
        #expect(redraws.count > 3, "\(drawn.debugDescription)")
        #expect(redraws.contains { $0.hasPrefix("  unit-tests ") && $0.contains(" building ") })
        // The last redraw clears the line: what follows it is only script(1)'s own trailer.
        #expect(redraws.last?.hasPrefix("  unit-tests") == false, "\(redraws.last ?? "")")
        #expect(!drawn.contains("cdbctl: unit-tests"))
    }
}
