import ChildProcesses
import Foundation

/// The invoking user's crontab, read with `crontab -l` and written with `crontab FILE` (argv, no shell): the
/// cdbctl block goes in or out, every other line stays byte for byte.
public struct UserCrontab: Sendable {
    /// The `crontab` binary.
    public var executable: String

    public init(executable: String? = nil) throws(ScheduleError) {
        guard let found = executable ?? locateExecutable("crontab", extraDirectories: ["/usr/bin", "/usr/sbin"]) else {
            throw ScheduleError(message: "no crontab binary on PATH: install cron (sudo apt-get install cron, or scripts/setup.sh)")
        }
        self.executable = found
    }

    /// What changed: whether the crontab was written at all (installing the same block again writes nothing).
    public enum Change: String, Sendable, Encodable {
        case installed, replaced, unchanged, removed, absent
    }

    /// The crontab's text; "" when the user has none.
    public func read() async throws -> String {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/listed"
        let listing = try ChildProcess(executable, ["-l"], outputPath: file)
        let status = await listing.exitStatus()
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
        // Read as bytes and refused unless UTF-8: a lossy decoding would be written back and change the user's lines.
        guard let text = String(data: bytes, encoding: .utf8) else {
            throw ScheduleError(message: "the crontab is not UTF-8 text; cdbctl leaves it alone (edit it with crontab -e)")
        }
        if status == 0 { return text }
        if text.contains("no crontab for") { return "" }
        throw ScheduleError(message: "crontab -l failed (\(status)): \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
    }

    /// A private temporary directory: the crontab's text passes through it and is nobody else's to read.
    private static func scratchDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdbctl-crontab-\(UUID().uuidString)").path
        try OperatorFiles.createPrivateDirectory(directory)
        return directory
    }

    /// Puts `block` in, in place of an earlier one of the same project and directory.
    @discardableResult
    public func install(_ block: CrontabBlock, invocation: CrontabBlock.Invocation) async throws -> Change {
        let current = try await read()
        let edit = try CrontabText.installing(block.text, invocation: invocation, into: current)
        guard edit.text != current else { return .unchanged }
        try await write(edit.text)
        return edit.replaced ? .replaced : .installed
    }

    /// Takes the project's block out; nothing else changes.
    @discardableResult
    public func remove(invocation: CrontabBlock.Invocation) async throws -> Change {
        let current = try await read()
        guard let remaining = try CrontabText.removing(invocation: invocation, from: current) else { return .absent }
        try await write(remaining)
        return .removed
    }

    /// An empty result removes the crontab (`crontab -r`), as it was before cdbctl added one.
    private func write(_ text: String) async throws {
        if text.isEmpty {
            let removed = try await runCommand(executable, ["-r"], timeout: .seconds(30))
            guard removed.status == 0 else { throw ScheduleError(message: "crontab -r failed (\(removed.status)): \(removed.output)") }
            return
        }
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/crontab"
        try OperatorFiles.writePrivateFile(Data(text.utf8), to: file)
        let installed = try await runCommand(executable, [file], timeout: .seconds(30))
        guard installed.status == 0 else {
            throw ScheduleError(message: "crontab refused the new table (\(installed.status)): \(installed.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}

/// The pure text edits behind `UserCrontab`, on whole lines between the block's markers.
public enum CrontabText {
    /// `current` with `block` replacing the project's block, or appended last when there is none. Last, because the
    /// block's PATH line applies to every line below it: the user's own lines must not come after it.
    public static func installing(_ block: String, invocation: CrontabBlock.Invocation, into current: String) throws(ScheduleError) -> (text: String, replaced: Bool) {
        let others = try removing(invocation: invocation, from: current)
        var text = others ?? current
        if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
        return (text + block, others != nil)
    }

    /// `current` without the project's block; nil when it has none.
    public static func removing(invocation: CrontabBlock.Invocation, from current: String) throws(ScheduleError) -> String? {
        var lines = current.split(separator: "\n", omittingEmptySubsequences: false)
        guard let begin = lines.firstIndex(where: { $0 == invocation.beginMarker }) else { return nil }
        guard let end = lines[begin...].firstIndex(where: { $0 == invocation.endMarker }) else {
            throw ScheduleError(message: "the crontab has '\(invocation.beginMarker)' but no '\(invocation.endMarker)' after it; "
                                + "fix it with crontab -e (cdbctl does not guess where its block ends)")
        }
        let blockWasLast = end == lines.count - 1
        // Removing the lines with their separators: the END line's newline goes with the block.
        lines.removeSubrange(begin...end)
        var text = lines.joined(separator: "\n")
        // A block that ended the file without a newline took the separator of the line before it.
        if blockWasLast, !text.isEmpty { text += "\n" }
        return text
    }
}

/// Whether a cron daemon runs here: without one an installed schedule never fires.
public enum CronDaemon {
    /// A pid file of cron (Debian's /run/crond.pid) naming a live process, or a process named cron or crond.
    public static func isRunning() -> Bool {
        for pidFile in ["/run/crond.pid", "/var/run/crond.pid"] {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
               kill(pid, 0) == 0 || errno == EPERM {
                return true
            }
        }
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return processes.contains { entry in
            guard entry.allSatisfy(\.isNumber), let name = try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8) else { return false }
            return ["cron", "crond"].contains(name.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// What to tell the operator when none runs.
    public static let startAdvice = "no cron daemon runs on this machine, so the schedule will not fire. Start one with "
        + "`sudo service cron start`; on WSL without systemd, also add to /etc/wsl.conf:\n  [boot]\n  command = service cron start\n"
        + "so it starts with the distribution."
}
