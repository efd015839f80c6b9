import Foundation
import Primitives
import Synchronization

/// How a running `command` step is getting on: what an observer of the executor is told while it runs.
public struct StepProgress: Sendable, Equatable {
    public var step: String
    /// Since this attempt's command started.
    public var elapsed: Duration
    public var command: CommandProgress
    /// The command has ended: the step's last report.
    public var finished: Bool

    public init(step: String, elapsed: Duration, command: CommandProgress, finished: Bool) {
        self.step = step
        self.elapsed = elapsed
        self.command = command
        self.finished = finished
    }

    /// `unit-tests 4m12s building 812/1234`; once ended, `unit-tests done after 4m12s: 312 passed, 0 failed`.
    public var text: String {
        finished ? "\(step) done after \(Self.clock(elapsed))" + (command.countsText.map { ": \($0)" } ?? "")
            : "\(step) \(Self.clock(elapsed)) \(command.text)"
    }

    /// Whole seconds, as a ticking clock reads: `8s`, `4m12s`, `1h02m`.
    static func clock(_ duration: Duration) -> String {
        let seconds = max(0, Int(duration.components.seconds))
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(String(format: "%02d", seconds % 60))s" }
        return "\(seconds / 3600)h\(String(format: "%02d", seconds / 60 % 60))m"
    }
}

/// Follows one running command for an observer: a report after every batch of output lines, one every second
/// besides (the clock must advance through a link step that prints nothing for minutes), and a last one when
/// the command ends. Reports are sent under the lock, so the observer sees them in order and none after the last.
final class CommandWatch: Sendable {
    private let step: String
    private let started = ContinuousClock.now
    private let observer: @Sendable (StepProgress) -> Void
    private let state = Mutex((progress: CommandProgress(), finished: false))
    private let heartbeat = Mutex<Task<Void, Never>?>(nil)

    init(step: String, observer: @escaping @Sendable (StepProgress) -> Void) {
        self.step = step
        self.observer = observer
        heartbeat.withLock { task in
            task = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    self?.consume([])
                }
            }
        }
        consume([])
    }

    /// Reads the lines into the progress and reports it.
    func consume(_ lines: [Substring]) {
        state.withLock { state in
            guard !state.finished else { return }
            for line in lines { state.progress.consume(line) }
            observer(StepProgress(step: step, elapsed: .now - started, command: state.progress, finished: false))
        }
    }

    /// The last report; the heartbeat stops.
    func finish() {
        heartbeat.withLock { $0?.cancel() }
        state.withLock { state in
            guard !state.finished else { return }
            state.finished = true
            observer(StepProgress(step: step, elapsed: .now - started, command: state.progress, finished: true))
        }
    }
}

/// What goes to stderr for the steps in progress. On a terminal, one line redrawn in place (carriage return,
/// clear to end of line) and cleared when no step runs. In a log (cron, CI, a file) a plain line per step when its
/// phase changes (running → building → testing) and otherwise at most one per `every`, so a log shows life
/// without a line per test; plus one when the step's command ends.
public struct ProgressRenderer: Sendable {
    public enum Mode: Sendable, Equatable {
        /// Lines are cut to the terminal's width: a wrapped line could not be redrawn in place.
        case terminal(width: Int)
        case log(every: Duration)
    }

    public let mode: Mode
    private var running: [StepProgress] = []
    /// Terminal: the line on the screen now, "" when none.
    private var drawn = ""
    /// Log: when each running step last had a line, and in which phase.
    private var logged: [String: (at: ContinuousClock.Instant, phase: PhaseKind)] = [:]
    private var closed = false

    /// Phases as a log marks them: a build's step count moving on is not a change.
    private enum PhaseKind { case running, building, testing }

    public init(mode: Mode) { self.mode = mode }

    /// The bytes to write for a new report ("" for nothing).
    public mutating func update(_ progress: StepProgress, at now: ContinuousClock.Instant) -> String {
        guard !closed else { return "" }
        if let index = running.firstIndex(where: { $0.step == progress.step }) {
            if progress.finished { running.remove(at: index) } else { running[index] = progress }
        } else if !progress.finished {
            running.append(progress)
        }
        switch mode {
        case .terminal:
            return redraw()
        case .log(let every):
            if progress.finished {
                logged[progress.step] = nil
                return "cdbctl: \(progress.text)\n"
            }
            let phase = Self.kind(progress.command.phase)
            if let last = logged[progress.step], last.phase == phase, now - last.at < every { return "" }
            logged[progress.step] = (now, phase)
            return "cdbctl: \(progress.text)\n"
        }
    }

    /// A line of its own (a step's verdict) printed while progress may be on the screen: the progress line is
    /// cleared first and drawn again under it.
    public mutating func note(_ line: String) -> String {
        guard case .terminal = mode, !drawn.isEmpty else { return line + "\n" }
        return Self.clearLine + line + "\n" + drawn
    }

    /// Clears the terminal's progress line for good (the phase's table follows); later reports write nothing.
    public mutating func close() -> String {
        closed = true
        running = []
        guard case .terminal = mode else { return "" }
        return redraw()
    }

    /// Carriage return, then ANSI "erase to end of line".
    static let clearLine = "\r\u{1B}[K"

    private mutating func redraw() -> String {
        guard case .terminal(let width) = mode else { return "" }
        var line = running.isEmpty ? "" : "  " + running.map(\.text).joined(separator: " | ")
        // The last column stays free: writing into it makes some terminals wrap at once.
        if line.count > width - 1 { line = String(line.prefix(max(width - 2, 0))) + "…" }
        guard line != drawn else { return "" }
        drawn = line
        return Self.clearLine + line
    }

    private static func kind(_ phase: CommandProgress.Phase) -> PhaseKind {
        switch phase {
        case .starting: .running
        case .building, .built: .building
        case .testing: .testing
        }
    }
}

/// Writes a `ProgressRenderer`'s output, one report at a time, from whichever task reports.
public final class ProgressDisplay: Sendable {
    private let renderer: Mutex<ProgressRenderer>
    private let write: @Sendable (String) -> Void

    public init(mode: ProgressRenderer.Mode, write: @escaping @Sendable (String) -> Void) {
        renderer = Mutex(ProgressRenderer(mode: mode))
        self.write = write
    }

    /// On stderr: redrawn in place when it is a terminal that understands ANSI erase, else plain lines every 30 s.
    /// stdout is never written, so a `--json` document stays clean.
    public static func standardError() -> ProgressDisplay {
        let terminal = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        return ProgressDisplay(mode: terminal ? .terminal(width: terminalWidth()) : .log(every: .seconds(30)),
                               write: StandardError.write)
    }

    public func update(_ progress: StepProgress) {
        renderer.withLock { renderer in emit(renderer.update(progress, at: .now)) }
    }

    public func note(_ line: String) {
        renderer.withLock { renderer in emit(renderer.note(line)) }
    }

    public func close() {
        renderer.withLock { renderer in emit(renderer.close()) }
    }

    /// Written under the lock: two reports' bytes never interleave.
    private func emit(_ text: String) {
        if !text.isEmpty { write(text) }
    }

    private static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap { Int($0) } ?? 80
    }
}
