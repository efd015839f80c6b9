import Foundation
@testable import Runbook
import Testing

@Suite("Command progress read line by line")
struct CommandProgressParsingTests {
    /// The shape of `bash scripts/test.sh unit`'s output: SwiftPM building, XCTest's empty harness, then a
    /// Swift Testing run with two suites at once (one unnamed), an issue, a failure and a skip.
    static let recorded = """
        setup: every package present
        Building for debugging...
        [0/12] Write sources
        [1/12] Write swift-version-6F35C1178C84523A.txt
        [5/12] Compiling PlainText PlainText.swift
        [9/14] Compiling RunbookUnitTests ProgressTests.swift
        [14/14] Linking claire-de-binarePackageTests.xctest
        Build complete! (41.27s)
        Test Suite 'All tests' started at 2026-11-30 06:07:56.127
        Test Suite 'claire-de-binarePackageTests.xctest' started at 2026-11-30 06:07:56.128
        Test Suite 'claire-de-binarePackageTests.xctest' passed at 2026-11-30 06:07:56.128
        \t Executed 0 tests, with 0 failures (0 unexpected) in 0.0 (0.0) seconds
        Test Suite 'All tests' passed at 2026-11-30 06:07:56.128
        \t Executed 0 tests, with 0 failures (0 unexpected) in 0.0 (0.0) seconds
        ◇ Test run started.
        ↳ Testing Library Version: 6.3.1 (d6b8b2f3e3b2a1c)
        ↳ Target Platform: x86_64-unknown-linux-gnu
        ◇ Suite "Output parsing" started.
        ◇ Suite MEXCProtocolTests started.
        ◇ Test "Swift Testing and XCTest verdict lines are counted" started.
        ◇ Test "a subscription ack is checked" started.
        ✔ Test "Swift Testing and XCTest verdict lines are counted" passed after 0.002 seconds.
        ✘ Test "a subscription ack is checked" recorded an issue at MEXCProtocolTests.swift:41:9: Expectation failed: (ack → "Blocked!") == "ok"
        ✘ Test "a subscription ack is checked" failed after 0.004 seconds with 1 issue.
        ✘ Suite MEXCProtocolTests failed after 0.005 seconds with 1 issue.
        ➜ Test "needs a Docker engine" skipped: "no engine"
        ✔ Test "multiplexed Docker log frames are joined, stdout and stderr alike" passed after 0.001 seconds.
        ✔ Suite "Output parsing" passed after 0.006 seconds.
        ✘ Test run with 4 tests in 2 suites failed after 0.007 seconds with 1 issue.
        """

    @Test("the build's step count, then the suite running and the counts so far, as each line arrives")
    func incremental() {
        var progress = CommandProgress()
        var seen: [String: String] = [:]
        for line in TestOutputLine.lines(of: Self.recorded) {
            progress.consume(line)
            seen[String(line)] = progress.text
        }
        #expect(seen["setup: every package present"] == "running")
        #expect(seen["[5/12] Compiling PlainText PlainText.swift"] == "building 5/12")
        #expect(seen["[14/14] Linking claire-de-binarePackageTests.xctest"] == "building 14/14")
        #expect(seen["Build complete! (41.27s)"] == "build complete")
        #expect(seen["Test Suite 'All tests' started at 2026-11-30 06:07:56.127"] == "testing, suite \"All tests\": 0 passed, 0 failed")
        #expect(seen["◇ Test run started."] == "testing: 0 passed, 0 failed")
        #expect(seen["◇ Suite \"Output parsing\" started."] == "testing, suite \"Output parsing\": 0 passed, 0 failed")
        #expect(seen["◇ Suite MEXCProtocolTests started."] == "testing, suite \"MEXCProtocolTests\" and 1 more: 0 passed, 0 failed")
        #expect(seen["✘ Test \"a subscription ack is checked\" failed after 0.004 seconds with 1 issue."]
                == "testing, suite \"MEXCProtocolTests\" and 1 more: 1 passed, 1 failed")
        // The unnamed suite ended; the named one that started before it is still running.
        #expect(seen["✘ Suite MEXCProtocolTests failed after 0.005 seconds with 1 issue."]
                == "testing, suite \"Output parsing\": 1 passed, 1 failed")
        #expect(seen["✘ Test run with 4 tests in 2 suites failed after 0.007 seconds with 1 issue."] == "testing: 2 passed, 1 failed")
        #expect(progress.runningSuites.isEmpty)
    }

    @Test("the live counts and the final summary come from the same lines: they agree")
    func sharedGrammar() {
        var progress = CommandProgress()
        TestOutputLine.lines(of: Self.recorded).forEach { progress.consume($0) }
        var expected = TestOutputSummary(passed: 2, failed: 1, skipped: 1)
        expected.failedNames = ["a subscription ack is checked"]
        #expect(progress.counts == expected)
        #expect(TestOutputSummary(parsing: Self.recorded) == expected)
    }

    @Test("lines cdbctl does not read are nothing: warnings, issue lines, the run's summary, brackets that are no build step")
    func unrecognised() {
        for line in ["warning: 'x' is deprecated", "✘ Test \"c\" recorded an issue at A.swift:1:1: boom",
                     "✔ Test run with 2 tests in 1 suite passed after 0.1 seconds.", "[warning] disk almost full", "[1/] Compiling",
                     "↳ Testing Library Version: 6.3.1"] {
            #expect(TestOutputLine(line[...]) == nil, "\(line)")
        }
    }
}
