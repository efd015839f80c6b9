import ChildProcesses
import Foundation

/// Where a local server could not be started, with the command and its output.
public struct LocalServerError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Waits until `probe` succeeds or `timeout` passes; gives up at once, quoting the end of its log,
/// when the server process has already exited.
func waitUntil(timeout: Duration, what: String, process: ChildProcess, log: String?,
               _ probe: () async -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await probe() { return }
        if process.hasExited {
            throw LocalServerError(message: "\(what) exited during start-up (status \(process.waitForExit()))\(logTail(log))")
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw LocalServerError(message: "\(what) did not become ready within \(timeout)\(logTail(log))")
}

private func logTail(_ path: String?) -> String {
    guard let path, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
    let lines = text.split(separator: "\n").suffix(8)
    return lines.isEmpty ? "" : "; last lines of \(path):\n" + lines.joined(separator: "\n")
}
