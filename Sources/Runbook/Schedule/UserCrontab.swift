import ChildProcesses
import Foundation

/// The invoking user's crontab, read with `crontab -l` and written with `crontab -` (argv, no shell): the
/// cdbctl block goes in or out, every other line stays byte for byte.
public struct UserCrontab: Sendable {
    /// The `crontab` binary.
    public var executable: String

    /// `executable`, else the crontab found on PATH.
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
        let listed = try await crontab(["-l"])
        if listed.status == 0 { return listed.output }
        if listed.output.contains("no crontab for") { return "" }
        throw ScheduleError(message: "crontab -l failed (\(listed.status)): \(listed.output.trimmingCharacters(in: .whitespacesAndNewlines))")
    }

    /// Runs crontab with `arguments` (argv, no shell) and `input` on its stdin, in a private scratch directory: the
    /// table passes through it and is nobody else's to read.
    private func crontab(_ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdbctl-crontab-\(UUID().uuidString)").path
        try OperatorFiles.createPrivateDirectory(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let inputPath = directory + "/input"
        if let input { try OperatorFiles.writePrivateFile(Data(input.utf8), to: inputPath) }
        let outputPath = directory + "/output"
        let child = try ChildProcess(executable, arguments, outputPath: outputPath, inputPath: input == nil ? nil : inputPath)
        let status = await child.exitStatus()
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: outputPath))) ?? Data()
        // Read as bytes and refused unless UTF-8: a lossy decoding would be written back and change the user's lines.
        guard let text = String(data: bytes, encoding: .utf8) else {
            throw ScheduleError(message: "the crontab is not UTF-8 text; cdbctl leaves it alone (edit it with crontab -e)")
        }
        return (status, text)
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

    /// `crontab -` with the new table on stdin; an empty result removes the crontab (`crontab -r`), as it was
    /// before cdbctl added one.
    private func write(_ text: String) async throws {
        let written = try await text.isEmpty ? crontab(["-r"]) : crontab(["-"], input: text)
        guard written.status == 0 else {
            throw ScheduleError(message: "crontab refused the new table (\(written.status)): \(written.output.trimmingCharacters(in: .whitespacesAndNewlines))")
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
