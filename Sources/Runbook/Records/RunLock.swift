import Foundation

/// An exclusive lock on `reports/.cdbctl.lock`, so two runs (a cron monitor and an operator's stop) never overlap.
///
/// `flock` is released by the kernel when the holder dies, so a lock left by a crashed run is stale by
/// construction: the next run takes it and says whose it was.
public final class RunLock {
    public let path: String
    private let descriptor: Int32
    /// Set when the lock file named a holder that is gone.
    public private(set) var staleHolder: String?

    public init(directory: String, command: String) throws(LockHeld) {
        try? OperatorFiles.createPrivateDirectory(directory)
        path = directory + "/.cdbctl.lock"
        // Close-on-exec: a command the run starts (compose, pg_dump, a test build) must not inherit the descriptor,
        // or the flock would outlive a crashed run for as long as that command runs.
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LockHeld(holder: "cannot open \(path): \(String(cString: strerror(errno)))") }
        // A lock file from before reports/ was private is tightened like every file cdbctl writes there.
        fchmod(descriptor, 0o600)
        let previous = Self.read(descriptor)
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw LockHeld(holder: previous.isEmpty ? "another cdbctl run" : previous)
        }
        if !previous.isEmpty { staleHolder = previous }
        ftruncate(descriptor, 0)
        let holder = "pid \(getpid()) running '\(command)' since \(ISO8601DateFormatter().string(from: Date()))"
        _ = holder.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    private var released = false

    /// Empties the lock file and unlocks it, so the next run sees a clean hand-over (not a stale lock).
    public func release() {
        guard !released else { return }
        released = true
        ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    deinit {
        release()
    }

    private static func read(_ descriptor: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
    }
}

/// Another run holds the lock: exit code 3.
public struct LockHeld: Error, CustomStringConvertible {
    public var holder: String
    public var description: String { "another cdbctl run holds the lock: \(holder)" }
    public static let exitCode: Int32 = 3
}
