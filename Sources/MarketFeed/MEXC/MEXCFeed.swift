#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import Primitives
import SwiftProtobuf
import TradingCore
import WSClient

/// The live MEXC spot v3 trade stream: aggregated deals of each symbol over WebSocket, decoded
/// from protobuf into ticks.
///
/// Symbols are spread over connections of at most `topicsPerConnection` channels. Every
/// subscription must be acknowledged with the channel's name within `ackTimeout`; a refusal
/// (MEXC's `Blocked!`) or a missing ack ends `run` with a `MarketFeedError` naming the channel.
/// A dropped connection is reopened with exponential backoff and jitter and re-subscribed; each
/// connection is also renewed on purpose before MEXC's 24 h limit.
public struct MEXCFeed: TickFeed {
    /// Settings with their defaults; `problems()` lists what is out of range.
    public struct Configuration: Sendable, Equatable {
        /// WebSocket URL. Default `wss://wbs-api.mexc.com/ws`; `ws://127.0.0.1:PORT/ws` for tests.
        public var url: String
        /// Symbols to stream. Default `["BTCUSDT"]`; upper-case A-Z and 0-9, 2 to 20 characters.
        public var symbols: [String]
        /// Aggregation interval of the deals channel. Default `.ms100`.
        public var dealInterval: MEXCDealInterval
        /// Channels per connection. Default and maximum 30 (MEXC's limit); at least 1.
        public var topicsPerConnection: Int
        /// Period of the JSON `PING`. Default 20 s; 100 ms … 50 s (MEXC closes after 60 s of silence).
        public var pingInterval: Duration
        /// How long a subscription may wait for its ack. Default 10 s; 100 ms … 2 min.
        public var ackTimeout: Duration
        /// A connection that received nothing at all (no deal, no `PONG`) for this long is
        /// replaced. Default 45 s; more than `pingInterval`, at most 10 min.
        public var idleTimeout: Duration
        /// Age at which a connection is replaced on purpose, before MEXC's 24 h limit.
        /// Default 23 h 50 min; 1 s … 24 h.
        public var maxConnectionAge: Duration
        /// Waits between reconnect attempts. Default 0.5 s doubling to 30 s, half of each random.
        public var reconnectBackoff: Backoff
        /// Give up (`run` throws `connectionFailed`) after this many failed attempts in a row;
        /// nil (default) retries forever, which suits a service that must ride out outages.
        public var maxConsecutiveFailures: Int?
        /// How long closing a connection may wait for the server's close frame. Default 2 s; 0 … 1 min.
        public var closeTimeout: Duration
        /// Largest WebSocket message accepted. Default 1 MiB; 16 KiB … 64 MiB.
        public var maxMessageSize: Int
        /// Ticks that may wait between the connections and `deliver`. Default 1,024; 1 … 1,000,000.
        public var bufferSize: Int

        /// Creates a configuration; every argument has the documented default.
        public init(
            url: String = MEXCProtocol.defaultURL,
            symbols: [String] = ["BTCUSDT"],
            dealInterval: MEXCDealInterval = .ms100,
            topicsPerConnection: Int = MEXCProtocol.maxTopicsPerConnection,
            pingInterval: Duration = .seconds(20),
            ackTimeout: Duration = .seconds(10),
            idleTimeout: Duration = .seconds(45),
            maxConnectionAge: Duration = .seconds(23 * 3_600 + 50 * 60),
            reconnectBackoff: Backoff = .mexcReconnect,
            maxConsecutiveFailures: Int? = nil,
            closeTimeout: Duration = .seconds(2),
            maxMessageSize: Int = 1 << 20,
            bufferSize: Int = 1_024
        ) {
            self.url = url
            self.symbols = symbols
            self.dealInterval = dealInterval
            self.topicsPerConnection = topicsPerConnection
            self.pingInterval = pingInterval
            self.ackTimeout = ackTimeout
            self.idleTimeout = idleTimeout
            self.maxConnectionAge = maxConnectionAge
            self.reconnectBackoff = reconnectBackoff
            self.maxConsecutiveFailures = maxConsecutiveFailures
            self.closeTimeout = closeTimeout
            self.maxMessageSize = maxMessageSize
            self.bufferSize = bufferSize
        }

        /// Every value out of range, as one line each; empty when the configuration is usable.
        public func problems() -> [String] {
            var problems: [String] = []
            let lowercasedURL = url.lowercased()
            if !(lowercasedURL.hasPrefix("ws://") || lowercasedURL.hasPrefix("wss://")) {
                problems.append("url must start with ws:// or wss://, got '\(url)'")
            }
            problems += SymbolFormat.problems(in: symbols)
            if !(1...MEXCProtocol.maxTopicsPerConnection).contains(topicsPerConnection) {
                problems.append("topicsPerConnection must be between 1 and 30, got \(topicsPerConnection)")
            }
            if pingInterval < .milliseconds(100) || pingInterval > .seconds(50) {
                problems.append("pingInterval must be between 100 ms and 50 s, got \(pingInterval.readable)")
            }
            if ackTimeout < .milliseconds(100) || ackTimeout > .seconds(120) {
                problems.append("ackTimeout must be between 100 ms and 2 min, got \(ackTimeout.readable)")
            }
            if idleTimeout <= pingInterval || idleTimeout > .seconds(600) {
                problems.append("idleTimeout must be longer than pingInterval and at most 10 min, got \(idleTimeout.readable)")
            }
            if maxConnectionAge < .seconds(1) || maxConnectionAge > .seconds(24 * 3_600) {
                problems.append("maxConnectionAge must be between 1 s and 24 h, got \(maxConnectionAge.readable)")
            }
            problems += reconnectBackoff.reconnectProblems()
            if let maxConsecutiveFailures, maxConsecutiveFailures < 1 {
                problems.append("maxConsecutiveFailures must be at least 1, got \(maxConsecutiveFailures)")
            }
            if closeTimeout < .zero || closeTimeout > .seconds(60) {
                problems.append("closeTimeout must be between 0 and 1 min, got \(closeTimeout.readable)")
            }
            if !((1 << 14)...(1 << 26)).contains(maxMessageSize) {
                problems.append("maxMessageSize must be between 16 KiB and 64 MiB, got \(maxMessageSize)")
            }
            if !(1...1_000_000).contains(bufferSize) {
                problems.append("bufferSize must be between 1 and 1,000,000, got \(bufferSize)")
            }
            return problems
        }

        /// The channels of each connection, in order: `symbols` in groups of `topicsPerConnection`.
        public var connectionPlan: [[String]] {
            let channels = symbols.map { MEXCProtocol.aggregatedDealsChannel(symbol: $0, interval: dealInterval) }
            let size = max(1, topicsPerConnection)
            return stride(from: 0, to: channels.count, by: size).map {
                Array(channels[$0..<min($0 + size, channels.count)])
            }
        }
    }

    /// The settings this feed runs with.
    public let configuration: Configuration
    /// Counters and last-tick time, for `/status`, `/metrics` and `/health`.
    public let monitor: FeedMonitor
    private let logger: Logger

    /// Creates the feed; throws `MarketFeedError.invalidConfiguration` listing every bad value.
    /// Nothing connects before `run`.
    public init(
        _ configuration: Configuration = .init(),
        monitor: FeedMonitor = FeedMonitor(),
        logger: Logger = Logger(label: "cdb.market-feed.mexc")
    ) throws(MarketFeedError) {
        let problems = configuration.problems()
        guard problems.isEmpty else { throw .invalidConfiguration(feed: "MEXC feed", problems: problems) }
        self.configuration = configuration
        self.monitor = monitor
        self.logger = logger
    }

    /// Produces ticks into `deliver`; see `TickFeed.run(deliver:)`.
    @discardableResult
    public func run(deliver: (MarketTick) async throws -> Void) async throws -> FeedCompletion {
        monitor.recordStart()
        let plan = configuration.connectionPlan
        let ticks = BoundedChannel<MarketTick>(capacity: configuration.bufferSize)
        logger.info(
            "starting MEXC feed",
            metadata: ["url": "\(configuration.url)", "symbols": "\(configuration.symbols.count)", "connections": "\(plan.count)"]
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await withThrowingTaskGroup(of: Void.self) { connections in
                        for (index, channels) in plan.enumerated() {
                            connections.addTask {
                                try await self.maintainConnection(number: index + 1, channels: channels, ticks: ticks)
                            }
                        }
                        try await connections.waitForAll()
                    }
                    ticks.finish(throwing: nil)
                } catch {
                    // The first failing connection ends the feed; leaving the group cancels the others.
                    ticks.finish(throwing: error)
                }
            }
            // Ticks of all connections reach `deliver` one at a time, from this task.
            do {
                while let tick = try await ticks.next() {
                    try await deliver(tick)
                }
            } catch is CancellationError where Task.isCancelled {
                group.cancelAll()
                return .cancelled
            }
            group.cancelAll()
            return Task.isCancelled ? .cancelled : .finished
        }
    }

    // MARK: Connections

    private enum SessionOutcome {
        case cancelled
        case fatal(MarketFeedError)
        case planned
        case dropped(reason: String, wasSubscribed: Bool)
    }

    /// Keeps one connection for `channels` alive until cancelled; throws only what must end the feed.
    private func maintainConnection(number: Int, channels: [String], ticks: BoundedChannel<MarketTick>) async throws {
        var logger = self.logger
        logger[metadataKey: "mexc.connection"] = "\(number)"
        var random = SystemRandomNumberGenerator()
        var failures = 0
        var isFirstAttempt = true
        while !Task.isCancelled {
            if !isFirstAttempt { monitor.update { $0.reconnects += 1 } }
            isFirstAttempt = false
            switch await session(channels: channels, ticks: ticks, logger: logger) {
            case .cancelled:
                return
            case .fatal(let error):
                monitor.update { $0.lastError = error.description }
                logger.error("MEXC feed stops", metadata: ["error": "\(error)"])
                throw error
            case .planned:
                failures = 0
                monitor.update { $0.plannedReconnects += 1 }
                logger.info("renewing the connection before MEXC's 24 h limit")
            case .dropped(let reason, let wasSubscribed):
                failures = wasSubscribed ? 1 : failures + 1
                monitor.update { $0.lastError = reason }
                if let limit = configuration.maxConsecutiveFailures, failures >= limit {
                    throw MarketFeedError.connectionFailed(url: configuration.url, attempts: failures, lastError: reason)
                }
                let delay = configuration.reconnectBackoff.delay(afterFailures: failures, using: &random)
                logger.warning(
                    "MEXC connection lost, reconnecting",
                    metadata: ["reason": "\(reason)", "in": "\(delay.readable)", "attempt": "\(failures)"]
                )
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return
                }
            }
        }
    }

    /// One connection from connect to close.
    private func session(channels: [String], ticks: BoundedChannel<MarketTick>, logger: Logger) async -> SessionOutcome {
        let session = ConnectionSession(channels: channels)
        let client = WebSocketClient(
            url: configuration.url,
            configuration: .init(
                maxFrameSize: configuration.maxMessageSize,
                closeTimeout: configuration.closeTimeout,
                // MEXC does not answer WebSocket-level pings; liveness is the JSON PING/PONG.
                autoPing: .disabled
            ),
            logger: logger
        ) { inbound, outbound, _ in
            try await self.handle(inbound: inbound, outbound: outbound, session: session, ticks: ticks, logger: logger)
        }
        var failure: (any Error)?
        var closeFrame: WebSocketCloseFrame?
        do {
            closeFrame = try await client.run()
        } catch {
            failure = error
        }
        // The session's own record comes first: the client may rethrow our error or a close error.
        if Task.isCancelled { return .cancelled }
        let state = session.state.withLock { $0 }
        if let fatal = state.fatal { return .fatal(fatal) }
        if state.ending == .planned { return .planned }
        let reason: String
        if let idle = state.idleReason {
            reason = idle
        } else if let failure {
            reason = "\(failure)"
        } else if let closeFrame {
            reason = "the server closed the connection (code \(closeFrame.closeCode)\(closeFrame.reason.map { ", \($0)" } ?? ""))"
        } else {
            reason = "the server closed the connection"
        }
        return .dropped(reason: reason, wasSubscribed: state.everSubscribed)
    }

    private func handle(
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter,
        session: ConnectionSession,
        ticks: BoundedChannel<MarketTick>,
        logger: Logger
    ) async throws {
        monitor.update {
            $0.openConnections += 1
            $0.connections += 1
        }
        defer { monitor.update { $0.openConnections -= 1 } }
        session.touch()
        // One request per channel (well under MEXC's 100 messages/s), so each ack names exactly one.
        for (index, channel) in session.channels.enumerated() {
            try await outbound.write(.text(MEXCProtocol.subscriptionRequest(channels: [channel], id: index + 1)))
        }
        let opened = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.read(inbound, session: session, ticks: ticks, logger: logger) }
            group.addTask { try await self.keepAlive(outbound) }
            group.addTask { try await self.watch(session, opened: opened, logger: logger) }
            // Whichever ends first (server closed, idle, planned renewal, fatal error) ends the connection.
            try await group.next()
            group.cancelAll()
        }
    }

    private func read(
        _ inbound: WebSocketInboundStream, session: ConnectionSession, ticks: BoundedChannel<MarketTick>, logger: Logger
    ) async throws {
        var decodeErrorsLogged = 0
        for try await message in inbound.messages(maxSize: configuration.maxMessageSize) {
            session.touch()
            switch message {
            case .text(let text):
                monitor.update { $0.controlMessages += 1 }
                try handleControl(text, session: session, logger: logger)
            case .binary(let buffer):
                monitor.update { $0.frames += 1 }
                let push: PushDataV3ApiWrapper
                do {
                    push = try PushDataV3ApiWrapper(serializedBytes: Array(buffer.readableBytesView))
                } catch {
                    monitor.update { $0.decodeErrors += 1 }
                    decodeErrorsLogged += 1
                    if decodeErrorsLogged <= 10 || decodeErrorsLogged % 1_000 == 0 {
                        logger.warning("undecodable protobuf frame dropped", metadata: ["error": "\(error)", "bytes": "\(buffer.readableBytes)"])
                    }
                    continue
                }
                let decoded = MEXCProtocol.ticks(from: push)
                if !decoded.problems.isEmpty {
                    monitor.update { $0.decodeErrors += decoded.problems.count }
                    for problem in decoded.problems {
                        logger.warning("undecodable deal dropped", metadata: ["problem": "\(problem)"])
                    }
                }
                for tick in decoded.ticks {
                    monitor.recordTick(tick)
                    try await ticks.send(tick)
                }
            }
        }
    }

    private func handleControl(_ text: String, session: ConnectionSession, logger: Logger) throws {
        let pending = session.state.withLock { $0.pending }
        switch MEXCProtocol.classify(reply: text, pending: pending) {
        case .pong:
            monitor.update { $0.pongsReceived += 1 }
        case .subscribed(let channel):
            let complete = session.state.withLock { state in
                state.pending.remove(channel)
                if state.pending.isEmpty { state.everSubscribed = true }
                return state.pending.isEmpty
            }
            logger.debug("subscribed", metadata: ["channel": "\(channel)"])
            if complete {
                logger.info("all subscriptions acknowledged", metadata: ["channels": "\(session.channels.count)"])
            }
        case .rejected(let channel, let message):
            let named = channel ?? (pending.isEmpty ? session.channels : pending.sorted()).joined(separator: ", ")
            let error = MarketFeedError.subscriptionRejected(channel: named, serverMessage: message, url: configuration.url)
            session.state.withLock { $0.fatal = $0.fatal ?? error }
            throw error
        case .other(let text):
            logger.debug("ignoring control message", metadata: ["text": "\(text)"])
        }
    }

    private func keepAlive(_ outbound: WebSocketOutboundWriter) async throws {
        while true {
            try await Task.sleep(for: configuration.pingInterval)
            try await outbound.write(.text(MEXCProtocol.pingRequest))
            monitor.update { $0.pingsSent += 1 }
        }
    }

    /// Returns when the connection should be replaced (idle or old); throws when acks are overdue.
    private func watch(_ session: ConnectionSession, opened: ContinuousClock.Instant, logger: Logger) async throws {
        let clock = ContinuousClock()
        let ackDeadline = opened + configuration.ackTimeout
        let renewal = opened + configuration.maxConnectionAge
        while true {
            let (pending, lastInbound) = session.state.withLock { ($0.pending, $0.lastInbound) }
            let now = clock.now
            if !pending.isEmpty, now >= ackDeadline {
                let error = MarketFeedError.subscriptionAckTimeout(
                    channels: pending.sorted(), timeout: configuration.ackTimeout, url: configuration.url
                )
                session.state.withLock { $0.fatal = $0.fatal ?? error }
                throw error
            }
            if now - lastInbound >= configuration.idleTimeout {
                session.state.withLock {
                    $0.idleReason = "nothing received for \(configuration.idleTimeout.readable) (not even a PONG)"
                }
                return
            }
            if now >= renewal {
                session.state.withLock { $0.ending = .planned }
                return
            }
            var next = min(lastInbound + configuration.idleTimeout, renewal)
            if !pending.isEmpty { next = min(next, ackDeadline) }
            try await clock.sleep(until: next)
        }
    }
}

/// What one connection's reader, pinger and watchdog share.
private final class ConnectionSession: Sendable {
    enum Ending: Equatable {
        case planned
    }

    struct State {
        var pending: Set<String>
        var everSubscribed = false
        var lastInbound = ContinuousClock.now
        var fatal: MarketFeedError?
        var idleReason: String?
        var ending: Ending?
    }

    let channels: [String]
    let state: Locked<State>

    init(channels: [String]) {
        self.channels = channels
        state = Locked(State(pending: Set(channels)))
    }

    func touch() {
        let now = ContinuousClock.now
        state.withLock { $0.lastInbound = now }
    }
}
