import ChildProcesses
import Foundation
import YAMLParser

/// `type: command`: a command run in the project directory; with `minimumPassed` > 0 its output must show that
/// many passing tests.
public struct CommandCheck: CheckType {
    public var arguments: [String]
    public var minimumPassed: Int

    public static let typeName = "command"
    public static let keys = ["run", "min_passed"]

    public static func decode(from reader: CheckReader) -> CommandCheck? {
        guard let arguments = reader.strings("run", required: true), !arguments.isEmpty else { return nil }
        return CommandCheck(arguments: arguments, minimumPassed: reader.optional("min_passed", as: Int.self) ?? 0)
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.command(arguments, minimumPassed: minimumPassed, timeout: context.step.timeout, step: context.step.id)
    }
}

extension CheckContext {
    fileprivate func command(_ arguments: [String], minimumPassed: Int, timeout: Duration, step: String) async throws -> CheckOutcome {
        let watch = commandProgress.map { CommandWatch(step: step, observer: $0) }
        defer { watch?.finish() }
        var onLines: (@Sendable ([Substring]) -> Void)?
        if let watch { onLines = { watch.consume($0) } }
        let result = try await runCommand(arguments[0], Array(arguments.dropFirst()), workingDirectory: projectDirectory, timeout: timeout,
                                          onLines: onLines)
        let counts = TestOutputSummary(parsing: result.output)
        let figures: [String: Double] = ["passed": Double(counts.passed), "failed": Double(counts.failed), "skipped": Double(counts.skipped)]
        // Without a test count to hold it to, a command is judged by its exit status alone.
        let counted = !(minimumPassed == 0 && counts == TestOutputSummary(passed: 0, failed: 0, skipped: 0))
        let command = arguments.joined(separator: " ")
        let summary = counted ? "\(counts.passed) passed, \(counts.failed) failed, \(counts.skipped) skipped" : "\(command) succeeded"
        let tally = counted ? "; \(summary)" : ""
        if result.timedOut { return .fail("\(command) did not finish within \(timeout.secondsText)\(tally)", figures: figures) }
        guard result.status == 0, counts.failed == 0 else {
            let lastLines = result.output.split(separator: "\n").suffix(5).joined(separator: " | ")
            let why = counts.failedNames.isEmpty
                ? (lastLines.isEmpty ? "no output" : "last output: " + lastLines)
                : "failed: " + counts.failedNames.map { "\"\($0)\"" }.joined(separator: ", ")
            // The whole output is kept: a red test step is investigated from it, not from five lines.
            let log = try? privateOutputFolder("commands") + "/\(ReportsDirectory.stampFormatter.string(from: Date()))-\(arguments.last ?? "command").log"
            let kept = log.flatMap { log in (try? writeOperatorText(result.output, to: log)).map { " (output: \(log))" } } ?? ""
            return .fail("\(command) exited \(result.status)\(tally); \(why)\(kept)", figures: figures)
        }
        guard minimumPassed == 0 || counts.passed >= minimumPassed else {
            return .fail("\(summary): expected at least \(minimumPassed) passing tests — did the suite run at all?", figures: figures)
        }
        return .pass(summary, figures: figures)
    }
}
