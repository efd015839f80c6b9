import Foundation
import Primitives
import Synchronization

/// A child process that could not be started or ended badly, with the command and its output.
public struct ChildProcessError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// glibc (≥ 2.29) has it, but its header hides it from Swift's Glibc module without _GNU_SOURCE.
@_silgen_name("posix_spawn_file_actions_addchdir_np")
private func spawnActionsAddChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>) -> Int32

/// Servers started by this process; ended at exit so a test run leaves none behind.
private let livePIDs = Mutex<Set<Int32>>([])
private let exitHookInstalled = Mutex(false)

/// Runs at exit: a C callback, so a plain function rather than a closure.
private func stopLiveChildren() {
    for pid in livePIDs.withLock({ $0 }) { kill(pid, SIGTERM) }
}

func trackChild(_ pid: Int32) {
    exitHookInstalled.withLock { installed in
        if !installed {
            installed = true
            atexit(stopLiveChildren)
        }
    }
    livePIDs.withLock { _ = $0.insert(pid) }
}

func untrackChild(_ pid: Int32) {
    livePIDs.withLock { _ = $0.remove(pid) }
}

/// A child started with posix_spawn and reaped with waitpid.
///
/// Foundation's `Process.waitUntilExit` spins a run loop, which never turns on a Swift-concurrency
/// thread; owning the pid outright keeps stop/restart deterministic.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// The exit status once reaped; a reaped pid may belong to another process, so it is never signalled again.
    private let reapedStatus = Mutex<Int32?>(nil)

    /// Whether the child leads a process group of its own (its pid is the group id), so `sendToGroup`
    /// reaches whatever it started too.
    public let leadsProcessGroup: Bool

    /// Starts `executable`; stdout and stderr go to `outputPath` (appended) or to /dev/null, stdin comes from
    /// `inputPath` or /dev/null.
    /// `environment` replaces the inherited environment when given; `ownProcessGroup` puts the child (and what
    /// it starts) in a new process group.
    public init(_ executable: String, _ arguments: [String], outputPath: String? = nil, environment: [String: String]? = nil,
                workingDirectory: String? = nil, ownProcessGroup: Bool = false, inputPath: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let workingDirectory { _ = spawnActionsAddChdir(&actions, workingDirectory) }
        let target = outputPath ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, target, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, inputPath ?? "/dev/null", O_RDONLY, 0)
        // Spawning threads (libdispatch workers) block most signals and the mask is inherited:
        // without resetting it, the server would never see our SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }
        var child: pid_t = 0
        let status = envp.map { posix_spawn(&child, executable, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard status == 0 else {
            throw ChildProcessError(message: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
        leadsProcessGroup = ownProcessGroup
        trackChild(child)
    }

    /// Sends `signal` to the child.
    public func send(_ signal: Int32) {
        reapedStatus.withLock { status in
            if status == nil { kill(pid, signal) }
        }
    }

    /// Sends `signal` to the child's whole process group; the child alone when it leads none. Also after the
    /// child was reaped: the group id cannot be handed to another group while any of its members live.
    public func sendToGroup(_ signal: Int32) {
        guard leadsProcessGroup else { return send(signal) }
        kill(-pid, signal)
    }

    /// Whether the child has exited, without reaping it (so `waitForExit` still reports its status).
    public var hasExited: Bool {
        var info = siginfo_t()
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == pid
    }

    /// Waits for the child to exit, on a thread of its own (waitpid blocks), and returns its exit status.
    @discardableResult
    public func exitStatus() async -> Int32 {
        await withCheckedContinuation { continuation in
            OSThread.detach(name: "waitpid \(pid)") { [self] in continuation.resume(returning: waitForExit()) }
        }
    }

    /// Reaps the child on a thread of its own once it exits, then runs `cleanup`; returns at once. For a `deinit`,
    /// which cannot wait without blocking whichever thread released the last reference (in async code, one of
    /// the cooperative pool's two).
    public func reapInBackground(then cleanup: @escaping @Sendable () -> Void = {}) {
        OSThread.detach(name: "reap \(pid)") { [self] in
            waitForExit()
            cleanup()
        }
    }

    /// Blocks until the child exits and returns its exit status (128 + signal when killed). Not from async code
    /// unless the child is known to exit at once (SIGKILL): use `exitStatus()` there.
    @discardableResult
    public func waitForExit() -> Int32 {
        if let known = reapedStatus.withLock({ $0 }) { return known }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        untrackChild(pid)
        let signal = status & 0x7f
        let exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        reapedStatus.withLock { $0 = exitStatus }
        return exitStatus
    }
}

/// What a finished command printed and how it ended.
public struct CommandOutput: Sendable {
    public var status: Int32
    /// stdout and stderr together, in the order written.
    public var output: String
    public var timedOut: Bool
}

/// Runs a command in a process group of its own, capturing its output. Past `timeout`, or when the calling task is
/// cancelled (a deadline), the whole group gets SIGTERM, then SIGKILL 5 s later, and whatever is left of the
/// group once the command has exited gets SIGKILL: nothing the command started runs on after it was stopped.
/// `onLines`, when given, sees the output's complete lines while the command runs (a few times a second),
/// and every line, the last unterminated one included, before this returns.
public func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                       workingDirectory: String? = nil, timeout: Duration,
                       onLines: (@Sendable ([Substring]) -> Void)? = nil) async throws -> CommandOutput {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("cdb-run-\(UUID().uuidString).log")
    defer { try? FileManager.default.removeItem(at: log) }
    let resolved = executable.contains("/") ? executable : (locateExecutable(executable) ?? executable)
    let child = try ChildProcess(resolved, arguments, outputPath: log.path, environment: environment,
                                 workingDirectory: workingDirectory, ownProcessGroup: true)
    // The output stays a file that is followed as it grows, not a pipe: a daemon the command leaves behind
    // would hold a pipe open, and reading it to its end would never finish.
    let follower = onLines.map { deliver in
        Task {
            let output = OutputFollower(path: log.path)
            while !Task.isCancelled {
                if let lines = output.readLines() { deliver(lines) }
                try? await Task.sleep(for: .milliseconds(250))
            }
            if let lines = output.readLines(final: true) { deliver(lines) }
        }
    }
    let stopping = CommandStop(child)
    let watchdog = Task {
        try await Task.sleep(for: timeout)
        stopping.begin(timedOut: true)
    }
    let status = await withTaskCancellationHandler {
        await child.exitStatus()
    } onCancel: {
        stopping.begin(timedOut: false)
    }
    watchdog.cancel()
    stopping.finish()
    follower?.cancel()
    await follower?.value
    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    return CommandOutput(status: status, output: text, timedOut: stopping.timedOut)
}

/// Stops a command's process group: SIGTERM, SIGKILL after a grace, and SIGKILL for what outlives the command.
private final class CommandStop: Sendable {
    private let child: ChildProcess
    private struct State { var begun = false; var timedOut = false }
    private let state = Mutex(State())

    init(_ child: ChildProcess) { self.child = child }

    var timedOut: Bool { state.withLock { $0.timedOut } }

    /// The first call wins; later ones (a cancellation after the timeout) change nothing.
    func begin(timedOut: Bool) {
        let first = state.withLock { state in
            defer { state.begun = true }
            if !state.begun { state.timedOut = timedOut }
            return !state.begun
        }
        guard first else { return }
        child.sendToGroup(SIGTERM)
        let child = child
        Task.detached {
            try? await Task.sleep(for: .seconds(5))
            child.sendToGroup(SIGKILL)
        }
    }

    /// After the command exited: a stopped command's group is ended whole, so no child of it runs on.
    func finish() {
        if state.withLock({ $0.begun }) { child.sendToGroup(SIGKILL) }
    }
}

/// Reads what a running command appended to its output file since the last read, as whole lines.
private final class OutputFollower {
    private let descriptor: Int32
    /// Bytes after the last newline: a line still being written.
    private var partial: [UInt8] = []

    init(path: String) { descriptor = open(path, O_RDONLY | O_CLOEXEC) }
    deinit { if descriptor >= 0 { close(descriptor) } }

    /// The lines completed since the last call, nil when none; `final` also hands over an unterminated last line.
    /// Cutting at newline bytes never splits a UTF-8 sequence: no byte of a multi-byte character is 0x0A.
    func readLines(final: Bool = false) -> [Substring]? {
        guard descriptor >= 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            partial.append(contentsOf: buffer[..<count])
        }
        let end = final ? partial.endIndex : (partial.lastIndex(of: 0x0A).map { $0 + 1 } ?? partial.startIndex)
        guard end > partial.startIndex else { return nil }
        let text = String(decoding: partial[..<end], as: UTF8.self)
        partial.removeSubrange(..<end)
        let lines = text.split(whereSeparator: \.isNewline)
        return lines.isEmpty ? nil : lines
    }
}

/// Runs a command to completion and returns its combined output; throws when it exits non-zero.
@discardableResult
public func runToCompletion(_ executable: String, _ arguments: [String]) async throws -> String {
    let result = try await runCommand(executable, arguments, timeout: .seconds(600))
    guard result.status == 0 else {
        throw ChildProcessError(message: "\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)")
    }
    return result.output
}

/// Ports this process has handed out: two tests asking at once must not get the same port while
/// neither server listens yet.
private let handedOutPorts = Mutex<Set<Int>>([])

/// A port on 127.0.0.1 nobody listens on right now and not handed out before by this process.
public func freeLoopbackPort() throws -> Int {
    // Ports are drawn below the kernel's ephemeral range: a port from that range can be taken by any
    // outgoing connection while a test server is stopped for a restart, and the restart then fails.
    let ephemeralStart = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
        .flatMap { $0.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } } ?? 32768
    let candidates = 20_000..<max(ephemeralStart, 20_001)
    for _ in 0..<200 {
        let port = Int.random(in: candidates)
        guard handedOutPorts.withLock({ $0.insert(port).inserted }) else { continue }
        if try loopbackPortIsFree(port) { return port }
    }
    throw ChildProcessError(message: "no free loopback port in \(candidates.lowerBound)-\(candidates.upperBound - 1) after 200 tries")
}

private func loopbackPortIsFree(_ port: Int) throws -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw ChildProcessError(message: "socket() failed: \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

/// Finds an executable on PATH or in the given extra directories.
public func locateExecutable(_ name: String, extraDirectories: [String] = []) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":").map(String.init) + extraDirectories {
        let candidate = directory + "/" + name
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

