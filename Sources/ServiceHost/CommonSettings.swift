import RedisClient
import StackContract

/// The settings every service reads, with the runbook's names.
public struct CommonSettings: Sendable {
    public var service: String
    public var httpPort: Int
    public var redis: RedisConfiguration
    public var logLevel: String
    /// `MAXLEN ~` of every stream this service appends to.
    public var streamMaxLength: Int
    /// The consumer name in every group; stable across restarts so pending entries are found again.
    public var consumerName: String
    /// glibc malloc arenas (`MALLOC_ARENA_MAX`, 1-64; default 1): see `MemoryRelease`.
    public var mallocArenas: Int

    /// Reads `HTTP_PORT`, `REDIS_HOST/PORT/PASSWORD/DB`, `LOG_LEVEL`, `STREAM_MAXLEN`, `CONSUMER_NAME`, `MALLOC_ARENA_MAX`.
    public init(reader: EnvironmentReader, service: String, defaultPort: Int) {
        self.service = service
        httpPort = reader.port("HTTP_PORT", default: defaultPort)
        let password = reader.secret("REDIS_PASSWORD", default: "")
        redis = RedisConfiguration(
            host: reader.string("REDIS_HOST", default: "127.0.0.1"), port: reader.port("REDIS_PORT", default: 6379),
            password: password.isEmpty ? nil : password, database: reader.integer("REDIS_DB", default: 0, range: 0...15),
            connectTimeout: .seconds(3), commandTimeout: .seconds(5), reconnectWindow: .seconds(10), clientName: service)
        logLevel = reader.choice("LOG_LEVEL", default: "info", allowed: ["trace", "debug", "info", "notice", "warning", "error", "critical"])
        streamMaxLength = reader.integer("STREAM_MAXLEN", default: 1_000_000, range: 1_000...100_000_000)
        consumerName = reader.string("CONSUMER_NAME", default: service)
        mallocArenas = reader.integer("MALLOC_ARENA_MAX", default: MemoryRelease.defaultArenas, range: 1...64)
    }
}
