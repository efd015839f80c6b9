import Foundation
import Synchronization

/// What a test process leaves in the temporary directory, removed when it exits: the servers' directories (a
/// PostgreSQL cluster is hundreds of MB, and the shared servers live as long as the process) and the tests' own
/// scratch folders. A crashed process leaves its files; a normal exit leaves none.
enum ExitCleanup {
    private struct Entry: Sendable {
        var directory: URL
        /// Ends the server still running in `directory`, if any, and waits for it.
        var stopServer: @Sendable () -> Void
    }

    private static let entries = Mutex<[Entry]>([])
    private static let hookInstalled = Mutex(false)

    /// Removes `directory` at exit, after `stopServer` has ended whatever still runs in it.
    static func register(_ directory: URL, stopServer: @escaping @Sendable () -> Void = {}) {
        hookInstalled.withLock { installed in
            if !installed {
                installed = true
                atexit(runExitCleanup)
            }
        }
        entries.withLock { $0.append(Entry(directory: directory, stopServer: stopServer)) }
    }

    fileprivate static func run() {
        let all = entries.withLock { entries in defer { entries = [] }; return entries }
        for entry in all { entry.stopServer() }
        for entry in all { try? FileManager.default.removeItem(at: entry.directory) }
    }
}

/// Runs at exit: a C callback, so a plain function rather than a closure.
private func runExitCleanup() { ExitCleanup.run() }

extension ChildProcess {
    /// At exit: `signal`, up to 10 s for the server to end, then SIGKILL; reaped either way.
    func stopAtExit(with signal: Int32) {
        send(signal)
        for _ in 0..<200 where !hasExited { usleep(50_000) }
        if !hasExited { send(SIGKILL) }
        waitForExit()
    }
}

/// A scratch directory of its own for one test, under the system's temporary directory, removed at exit.
public func scratchDirectory(_ prefix: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName(prefix))
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    ExitCleanup.register(directory)
    return directory
}
