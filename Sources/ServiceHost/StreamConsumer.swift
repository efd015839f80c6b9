#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Primitives
import Prometheus
import RedisClient
import ServiceLifecycle

/// Reads one Redis stream as a member of a consumer group and hands batches to a handler, at least once.
///
/// Entries are acknowledged only after the handler returned, i.e. after their effect is durable; a
/// handler that throws leaves them pending and they are delivered again. On start the consumer first
/// re-reads what it had been given before a crash (its own pending entries) and then claims entries
/// other consumers left idle for longer than `claimIdle` (a dead replica). The blocking read is short,
/// so a graceful shutdown finishes the batch in hand and stops within about `block`.
public struct StreamConsumer: Service {
    /// What to read and as whom.
    public struct Settings: Sendable {
        public var stream: String
        public var group: String
        /// Stable across restarts (service name), so a restarted service finds its own pending entries.
        public var consumer: String
        public var batchSize: Int
        public var block: Duration
        public var claimIdle: Duration

        public init(stream: String, group: String, consumer: String, batchSize: Int = 256, block: Duration = .milliseconds(500), claimIdle: Duration = .seconds(30)) {
            self.stream = stream
            self.group = group
            self.consumer = consumer
            self.batchSize = batchSize
            self.block = block
            self.claimIdle = claimIdle
        }
    }

    public typealias Handler = @Sendable ([StreamEntry]) async throws -> Void

    /// Between attempts to get back to Redis: 100 ms doubling to 5 s, up to a fifth random.
    static let reconnectBackoff = Backoff(initialDelay: .milliseconds(100), maxDelay: .seconds(5), jitter: 0.2)

    private let redis: RedisConfiguration
    private let settings: Settings
    private let handler: Handler
    private let logger: Logger
    private let hopLatency: DurationHistogram?

    /// `hopLatency` receives each entry's age (XADD → handled) once its batch was handled.
    public init(redis: RedisConfiguration, settings: Settings, logger: Logger, hopLatency: DurationHistogram? = nil, handler: @escaping Handler) {
        self.redis = redis
        self.settings = settings
        self.handler = handler
        self.logger = logger
        self.hopLatency = hopLatency
    }

    public func run() async throws {
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let connection = try await RedisConnection(redis)
                try await connection.createGroup(settings.stream, group: settings.group, startID: "0")
                try await recoverPending(connection)
                failures = 0
                try await consume(connection)
            } catch {
                failures += 1
                let delay = Self.reconnectBackoff.delay(afterFailures: failures)
                logger.error("stream consumer failed, retrying", metadata: [
                    "stream": "\(settings.stream)", "error": "\(error)", "retry_in_ms": "\(Int(delay.milliseconds))"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Redelivers this consumer's own unacknowledged entries, then those other consumers abandoned.
    private func recoverPending(_ connection: RedisConnection) async throws {
        while true {
            let own = try await connection.readGroup(
                group: settings.group, consumer: settings.consumer, streams: [settings.stream], count: settings.batchSize, block: nil, startID: "0")
            let entries = own.first?.entries ?? []
            if entries.isEmpty { break }
            logger.info("redelivering own pending entries", metadata: ["stream": "\(settings.stream)", "count": "\(entries.count)"])
            try await deliver(entries, on: connection)
        }
        var start = "0-0"
        repeat {
            let claimed = try await connection.autoClaim(
                settings.stream, group: settings.group, consumer: settings.consumer, minIdle: settings.claimIdle, start: start, count: settings.batchSize)
            if !claimed.entries.isEmpty {
                logger.warning("claimed entries another consumer left pending", metadata: ["stream": "\(settings.stream)", "count": "\(claimed.entries.count)"])
                try await deliver(claimed.entries, on: connection)
            }
            start = claimed.nextStart
        } while start != "0-0"
    }

    private func consume(_ connection: RedisConnection) async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let batch = try await connection.readGroup(
                group: settings.group, consumer: settings.consumer, streams: [settings.stream], count: settings.batchSize, block: settings.block)
            guard let entries = batch.first?.entries, !entries.isEmpty else { continue }
            try await deliver(entries, on: connection)
        }
    }

    private func deliver(_ entries: [StreamEntry], on connection: RedisConnection) async throws {
        try await handler(entries)
        if let hopLatency {
            let now = Date()
            for entry in entries { if let age = entry.age(at: now) { hopLatency.record(age) } }
        }
        try await connection.ack(settings.stream, group: settings.group, ids: entries.map(\.id))
    }
}

extension StreamEntry {
    /// How long before `now` Redis stored the entry (its id starts with the XADD time in ms).
    public func age(at now: Date) -> Duration? {
        guard let stored = StreamID(id) else { return nil }
        let elapsed = now.timeIntervalSince1970 * 1000 - Double(stored.milliseconds)
        return .milliseconds(Int64(max(0, elapsed.rounded())))
    }
}
