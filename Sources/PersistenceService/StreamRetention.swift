#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Primitives
import RedisClient
import StackContract

/// Keeps the persisted streams as long as they are needed and no longer: an event goes once every consumer group
/// has acknowledged it (the writer's and the stages' that read the same stream) and it is older than `retention`.
/// `STREAM_MAXLEN` stays the hard bound behind it; this is what keeps a week's bus well inside Redis' maxmemory.
public actor StreamRetention {
    private let redis: RedisConfiguration
    private let retention: Duration
    private let logger: Logger
    private var connection: RedisConnection?

    public init(redis: RedisConfiguration, retention: Duration, logger: Logger) {
        self.redis = redis
        self.retention = retention
        self.logger = logger
    }

    /// Trims each persisted stream once; the entries removed, by stream.
    @discardableResult
    public func trim(now: Date = Date()) async throws -> [String: Int] {
        let floor = StreamID(milliseconds: UInt64(max(0, (now.timeIntervalSince1970 - retention.seconds) * 1000)))
        let redis = try await connected()
        var removed: [String: Int] = [:]
        do {
            for stream in BusStream.persisted.map(\.rawValue) {
                removed[stream] = try await redis.trimBehindGroups(stream, keepingFrom: floor)
            }
        } catch {
            connection = nil
            throw error
        }
        if removed.values.contains(where: { $0 > 0 }) {
            logger.info("persisted streams trimmed behind their readers", metadata: ["removed": "\(removed.filter { $0.value > 0 })"])
        }
        return removed
    }

    private func connected() async throws -> RedisConnection {
        if let connection { return connection }
        let fresh = try await RedisConnection(redis)
        connection = fresh
        return fresh
    }
}
