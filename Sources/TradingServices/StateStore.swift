import RedisClient

/// Where a stage keeps the state that must survive a restart: a Redis key (`RedisStateStore`), or memory in tests.
public protocol StateStore: Sendable {
    /// The state saved last; nil when none was ever saved.
    func load() async throws -> [UInt8]?
    /// Replaces the saved state; returns once it is stored.
    func save(_ state: [UInt8]) async throws
}

/// A state kept under one Redis key (GET/SET), on a connection of its own.
public struct RedisStateStore: StateStore {
    private let connection: RedisConnection
    private let key: String

    /// Connects now, so a service whose Redis is unreachable fails at startup rather than at its first save.
    public init(redis: RedisConfiguration, key: String) async throws {
        connection = try await RedisConnection(redis)
        self.key = key
    }

    public func load() async throws -> [UInt8]? {
        try await connection.command("GET", key).bytes
    }

    public func save(_ state: [UInt8]) async throws {
        try await connection.command(["SET", key, state])
    }
}
