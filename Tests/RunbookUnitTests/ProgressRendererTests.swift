import Foundation
@testable import Runbook
import Testing

@Suite("Progress on stderr")
struct ProgressRendererTests {
    let start = ContinuousClock.now

    func report(_ step: String, after seconds: Int, _ lines: [String] = [], finished: Bool = false) -> StepProgress {
        var command = CommandProgress()
        lines.forEach { command.consume($0[...]) }
        return StepProgress(step: step, elapsed: .seconds(seconds), command: command, finished: finished)
    }

    @Test("a terminal gets one line redrawn in place, both running steps on it, cleared when the last ends")
    func terminal() {
        var renderer = ProgressRenderer(mode: .terminal(width: 120))
        #expect(renderer.update(report("unit-tests", after: 0), at: start) == "\r\u{1B}[K  unit-tests 0s running")
        #expect(renderer.update(report("unit-tests", after: 0), at: start) == "")  // nothing new: nothing written
        #expect(renderer.update(report("unit-tests", after: 75, ["[812/1234] Compiling X a.swift"]), at: start + .seconds(75))
                == "\r\u{1B}[K  unit-tests 1m15s building 812/1234")
        #expect(renderer.update(report("coverage", after: 2), at: start + .seconds(76))
                == "\r\u{1B}[K  unit-tests 1m15s building 812/1234 | coverage 2s running")
        // A verdict printed meanwhile goes above the progress line, which is drawn again under it.
        #expect(renderer.note("  PASS env") == "\r\u{1B}[K  PASS env\n  unit-tests 1m15s building 812/1234 | coverage 2s running")
        #expect(renderer.update(report("unit-tests", after: 80, finished: true), at: start + .seconds(80))
                == "\r\u{1B}[K  coverage 2s running")
        #expect(renderer.update(report("coverage", after: 5, finished: true), at: start + .seconds(81)) == "\r\u{1B}[K")
        #expect(renderer.note("  PASS coverage") == "  PASS coverage\n")
    }

    @Test("a terminal line never wraps: it is cut to the width, one column to spare")
    func width() {
        var renderer = ProgressRenderer(mode: .terminal(width: 20))
        let out = renderer.update(report("integration-tests", after: 3723, ["◇ Suite \"Redis client\" started."]), at: start)
        #expect(out == "\r\u{1B}[K  integration-test…")
        #expect(out.dropFirst(ProgressRenderer.clearLine.count).count == 19)
    }

    @Test("closing clears the line, and a report from a step still winding down writes nothing after")
    func close() {
        var renderer = ProgressRenderer(mode: .terminal(width: 80))
        _ = renderer.update(report("unit-tests", after: 1), at: start)
        #expect(renderer.close() == "\r\u{1B}[K")
        #expect(renderer.update(report("unit-tests", after: 2), at: start + .seconds(2)) == "")
    }

    @Test("a log gets plain lines: at the start, on each phase change, else at most one per 30 s; and one at the end")
    func log() {
        var renderer = ProgressRenderer(mode: .log(every: .seconds(30)))
        let build = ["[5/12] Compiling PlainText PlainText.swift"]
        let test = build + ["Build complete! (1.0s)", "◇ Suite \"Output parsing\" started.", "✔ Test \"a\" passed after 0.1 seconds."]
        #expect(renderer.update(report("unit-tests", after: 0), at: start) == "cdbctl: unit-tests 0s running\n")
        #expect(renderer.update(report("unit-tests", after: 1, build), at: start + .seconds(1)) == "cdbctl: unit-tests 1s building 5/12\n")
        #expect(renderer.update(report("unit-tests", after: 2, build + ["[9/12] Compiling"]), at: start + .seconds(2)) == "")
        #expect(renderer.update(report("unit-tests", after: 30, build), at: start + .seconds(30)) == "")
        #expect(renderer.update(report("unit-tests", after: 31, build), at: start + .seconds(31)) == "cdbctl: unit-tests 31s building 5/12\n")
        #expect(renderer.update(report("unit-tests", after: 32, test), at: start + .seconds(32))
                == "cdbctl: unit-tests 32s testing, suite \"Output parsing\": 1 passed, 0 failed\n")
        #expect(renderer.update(report("unit-tests", after: 40, test), at: start + .seconds(40)) == "")
        #expect(renderer.update(report("unit-tests", after: 41, test, finished: true), at: start + .seconds(41))
                == "cdbctl: unit-tests done after 41s: 1 passed, 0 failed\n")
        #expect(!renderer.note("  PASS unit-tests").contains("\u{1B}"))
    }

    @Test("elapsed time reads as a clock: seconds, minutes and seconds, hours and minutes")
    func clock() {
        #expect(StepProgress.clock(.milliseconds(8_900)) == "8s")
        #expect(StepProgress.clock(.seconds(252)) == "4m12s")
        #expect(StepProgress.clock(.seconds(3723)) == "1h02m")
    }
}
