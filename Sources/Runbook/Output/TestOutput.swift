import Foundation

/// What one line of `swift build` / `swift test` output (Swift Testing or XCTest) says, when it says anything
/// cdbctl reads: the one line-level grammar behind both the final counts and the live progress of a step.
public enum TestOutputLine: Sendable, Equatable {
    /// SwiftPM's `[12/345] Compiling …`: step 12 of 345 (the total can still grow while the build plans).
    case buildStep(done: Int, total: Int)
    /// `Build complete! (12.34s)` or `Build of product 'x' complete!`.
    case buildComplete
    /// Swift Testing's `◇ Test run started.`
    case testRunStarted
    /// `◇ Suite "X" started.` (or an unnamed `Suite TypeName`), XCTest's `Test Suite 'X' started at …`.
    case suiteStarted(String)
    /// The suite's verdict line: passed, failed or skipped.
    case suiteFinished(String)
    case testPassed(String)
    /// The test's display name; nil for XCTest, whose failing names the summary does not list.
    case testFailed(String?)
    case testSkipped(String)

    public init?(_ line: Substring) {
        // Swift Testing's verdicts are matched anywhere in the line (after its symbol), only for display-named
        // tests, as cdbctl always has; its summary line ("Test run with 4 tests … failed") has no quoted name.
        if let start = line.range(of: "Test \"") {
            let rest = line[start.upperBound...]
            if let end = rest.range(of: "\" passed after") { self = .testPassed(String(rest[..<end.lowerBound])); return }
            if let end = rest.range(of: "\" failed after") { self = .testFailed(String(rest[..<end.lowerBound])); return }
            if let end = rest.range(of: "\" skipped") { self = .testSkipped(String(rest[..<end.lowerBound])); return }
        }
        if line.hasPrefix("Test Case '") {
            let name = String(line.dropFirst("Test Case '".count).prefix { $0 != "'" })
            if line.contains("' passed (") { self = .testPassed(name); return }
            if line.contains("' failed (") { self = .testFailed(nil); return }
            if line.contains("' skipped (") { self = .testSkipped(name); return }
        }
        if line.hasPrefix("Test Suite '") {
            let name = String(line.dropFirst("Test Suite '".count).prefix { $0 != "'" })
            let verdict = line.dropFirst("Test Suite '".count + name.count + 1)
            if verdict.hasPrefix(" started at") { self = .suiteStarted(name); return }
            if verdict.hasPrefix(" passed at") || verdict.hasPrefix(" failed at") { self = .suiteFinished(name); return }
        }
        if line.hasPrefix("["), let close = line.firstIndex(of: "]") {
            let figures = line[line.index(after: line.startIndex)..<close].split(separator: "/")
            if figures.count == 2, let done = Int(figures[0]), let total = Int(figures[1]) { self = .buildStep(done: done, total: total); return }
        }
        if line.hasPrefix("Build complete!") || (line.hasPrefix("Build of ") && line.contains(" complete!")) { self = .buildComplete; return }
        // The rest is Swift Testing's "<symbol> Suite …" and "<symbol> Test run started.": the symbol is one
        // character (◇ ✔ ✘ ➜, or an SF Symbol on macOS), followed by a space.
        let words = line.drop { !$0.isWhitespace }.dropFirst()
        if words == "Test run started." { self = .testRunStarted; return }
        guard words.hasPrefix("Suite ") else { return nil }
        let named = words.dropFirst("Suite ".count)
        let name: Substring
        let verdict: Substring
        if named.hasPrefix("\""), let end = named.dropFirst().firstIndex(of: "\"") {
            name = named[named.index(after: named.startIndex)..<end]
            verdict = named[named.index(after: end)...]
        } else {
            name = named.prefix { $0 != " " }
            verdict = named.dropFirst(name.count)
        }
        if verdict == " started." { self = .suiteStarted(String(name)); return }
        if verdict.hasPrefix(" passed after") || verdict.hasPrefix(" failed after") || verdict.hasPrefix(" skipped") {
            self = .suiteFinished(String(name)); return
        }
        return nil
    }

    /// A command's output as lines, however they end (`\n`, `\r\n`, or `\r` as a progress bar redraws).
    static func lines(of output: String) -> [Substring] {
        output.split(whereSeparator: \.isNewline)
    }
}

/// Pass/fail/skip counts from Swift Testing's or XCTest's output.
public struct TestOutputSummary: Sendable, Equatable {
    public var passed = 0
    public var failed = 0
    public var skipped = 0
    /// The failing tests' names, so a red step says which ones.
    public var failedNames: [String] = []

    public init(passed: Int, failed: Int, skipped: Int) {
        self.passed = passed
        self.failed = failed
        self.skipped = skipped
    }

    public init(parsing output: String) {
        for line in TestOutputLine.lines(of: output) {
            if let parsed = TestOutputLine(line) { count(parsed) }
        }
    }

    /// Counts one verdict line; every other kind of line leaves the counts alone.
    public mutating func count(_ line: TestOutputLine) {
        switch line {
        case .testPassed: passed += 1
        case .testFailed(let name):
            failed += 1
            if let name { failedNames.append(name) }
        case .testSkipped: skipped += 1
        case .buildStep, .buildComplete, .testRunStarted, .suiteStarted, .suiteFinished: break
        }
    }
}

/// How far a running test command has got, read line by line as its output arrives.
public struct CommandProgress: Sendable, Equatable {
    /// What the command is doing, as far as its output tells.
    public enum Phase: Sendable, Equatable {
        /// Nothing recognised yet (set-up, package resolution).
        case starting
        case building(done: Int, total: Int)
        case built
        case testing
    }

    public private(set) var phase = Phase.starting
    public private(set) var counts = TestOutputSummary(passed: 0, failed: 0, skipped: 0)
    /// Suites started and not yet finished, oldest first: Swift Testing runs several at once.
    public private(set) var runningSuites: [String] = []

    public init() {}

    /// The suite that started last among those still running.
    public var currentSuite: String? { runningSuites.last }

    public mutating func consume(_ line: Substring) {
        guard let parsed = TestOutputLine(line) else { return }
        counts.count(parsed)
        switch parsed {
        case .buildStep(let done, let total): phase = .building(done: done, total: total)
        case .buildComplete: phase = .built
        case .testRunStarted, .testPassed, .testFailed, .testSkipped: phase = .testing
        case .suiteStarted(let name):
            phase = .testing
            runningSuites.append(name)
        case .suiteFinished(let name):
            phase = .testing
            if let index = runningSuites.lastIndex(of: name) { runningSuites.remove(at: index) }
        }
    }

    /// `building 812/1234`, `build complete`, `testing, suite "Redis client" and 3 more: 143 passed, 0 failed`.
    /// The others are counted because Swift Testing runs suites in parallel (it starts them all at once), so
    /// the suite named is only the newest of those running.
    public var text: String {
        let others = runningSuites.count > 1 ? " and \(runningSuites.count - 1) more" : ""
        let doing = switch phase {
        case .starting: "running"
        case .building(let done, let total): "building \(done)/\(total)"
        case .built: "build complete"
        case .testing: "testing" + (currentSuite.map { ", suite \"\($0)\"\(others)" } ?? "")
        }
        return doing + (countsText.map { ": \($0)" } ?? "")
    }

    /// `143 passed, 0 failed` once tests run; nil for a command that has run none (a build, `stack.sh up`).
    public var countsText: String? {
        phase == .testing || counts.passed + counts.failed > 0 ? "\(counts.passed) passed, \(counts.failed) failed" : nil
    }
}
