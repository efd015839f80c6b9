#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Primitives
import TradingCore

/// Live counters of one feed, readable from any thread while the feed runs: what `/status`,
/// `/metrics` and the `/health` staleness check (`DATA_STALE_TIMEOUT_SEC`) report.
///
/// Ages are measured on the monotonic clock at the moment a tick reached us, not from the
/// tick's exchange time, so a skewed exchange clock or an old replay file cannot make a live
/// feed look stale (or a dead one fresh).
public final class FeedMonitor: Sendable {
    private struct State {
        var statistics = FeedStatistics()
        var startedAt: ContinuousClock.Instant?
        var lastTickAt: ContinuousClock.Instant?
    }

    private let state = Locked(State())

    /// Creates a monitor with every counter at zero.
    public init() {}

    /// A consistent copy of all counters.
    public func snapshot() -> FeedStatistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.secondsSinceLastTick = state.lastTickAt.map { (ContinuousClock.now - $0).seconds }
            return statistics
        }
    }

    /// Time since the last tick arrived; nil before the first one.
    public func timeSinceLastTick(now: ContinuousClock.Instant = .now) -> Duration? {
        state.withLock { state in state.lastTickAt.map { now - $0 } }
    }

    /// True when no tick arrived for `timeout`, counting from the start of `run` before the
    /// first tick; false while the feed has not been started.
    public func isStale(after timeout: Duration, now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { state in
            guard let reference = state.lastTickAt ?? state.startedAt else { return false }
            return now - reference > timeout
        }
    }

    // MARK: Recording (the feeds call these)

    func recordStart() {
        state.withLock { state in
            state.startedAt = .now
            state.statistics.runs += 1
        }
    }

    func recordTick(_ tick: MarketTick) {
        let now = ContinuousClock.now
        let wallClock = Date()
        state.withLock { state in
            state.lastTickAt = now
            state.statistics.ticks += 1
            state.statistics.lastTickEventTime = tick.eventTime
            state.statistics.lastTickReceivedAt = wallClock
        }
    }

    func update(_ change: (inout FeedStatistics) -> Void) {
        state.withLock { change(&$0.statistics) }
    }
}

/// A snapshot of a feed's counters; `Codable` so `/status` can embed it as JSON.
///
/// Counters that do not apply to a feed stay zero (a replay has no connections, MEXC no lines).
public struct FeedStatistics: Sendable, Equatable, Codable {
    /// Times `run` was started on this feed.
    public var runs = 0
    /// Ticks produced (for MEXC: decoded from pushes).
    public var ticks = 0
    /// Exchange (or file) time of the last tick.
    public var lastTickEventTime: Date?
    /// Wall-clock time the last tick arrived.
    public var lastTickReceivedAt: Date?
    /// Seconds since the last tick arrived (monotonic clock); nil before the first tick.
    public var secondsSinceLastTick: Double?

    /// Replay: lines read, header and blank lines included.
    public var linesRead = 0
    /// Replay: malformed lines skipped (only with `MalformedLinePolicy.skip`).
    public var skippedLines = 0

    /// MEXC: WebSocket connections currently open.
    public var openConnections = 0
    /// MEXC: successful WebSocket upgrades so far.
    public var connections = 0
    /// MEXC: connection attempts after the first one of each connection slot.
    public var reconnects = 0
    /// MEXC: reconnects made on purpose before the server's 24 h connection limit.
    public var plannedReconnects = 0
    /// MEXC: binary (protobuf) frames received.
    public var frames = 0
    /// MEXC: text (JSON control) frames received.
    public var controlMessages = 0
    /// MEXC: frames or deals that could not be decoded and were dropped.
    public var decodeErrors = 0
    /// MEXC: JSON `PING`s sent.
    public var pingsSent = 0
    /// MEXC: `PONG` replies received.
    public var pongsReceived = 0
    /// The most recent problem (a dropped connection, a skipped line), for operators.
    public var lastError: String?

    /// All counters zero.
    public init() {}
}

extension Duration {
    /// Human-readable form for messages: `250 ms`, `10 s`, `23 h 50 min`.
    var readable: String {
        let total = seconds
        if total < 1 { return "\(Int((total * 1_000).rounded())) ms" }
        if total < 120 {
            return total == total.rounded() ? "\(Int(total)) s" : "\((total * 10).rounded() / 10) s"
        }
        let minutes = Int((total / 60).rounded())
        if minutes < 120 { return "\(minutes) min" }
        return minutes % 60 == 0 ? "\(minutes / 60) h" : "\(minutes / 60) h \(minutes % 60) min"
    }
}
