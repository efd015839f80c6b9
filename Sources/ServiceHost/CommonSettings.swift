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
    /// glibc malloc arenas (`MALLOC_ARENA_MAX`): see `MemoryRelease`.
    public var mallocArenas: Int

    /// Reads `HTTP_PORT`, `REDIS_HOST/PORT/PASSWORD/DB`, `LOG_LEVEL`, `STREAM_MAXLEN`, `CONSUMER_NAME`, `MALLOC_ARENA_MAX`.
    public init(reader: EnvironmentReader, service: String, defaultPort: Int) {
        self.service = service
        httpPort = reader.read(.httpPort, default: defaultPort)
        let password = reader.read(.redisPassword)
        redis = RedisConfiguration(
            host: reader.read(.redisHost), port: reader.read(.redisPort),
            password: password.isEmpty ? nil : password, database: reader.read(.redisDB),
            connectTimeout: .seconds(3), commandTimeout: .seconds(5), reconnectWindow: .seconds(10), clientName: service)
        logLevel = reader.read(.logLevel)
        streamMaxLength = reader.read(.streamMaxLength)
        consumerName = reader.read(.consumerName, default: service)
        mallocArenas = reader.read(.mallocArenaMax)
    }
}
