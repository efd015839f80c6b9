/// One Redis and one PostgreSQL server per test process, started on first use.
///
/// Tests that share them must not share data: each test uses keys/streams of its own
/// (`uniqueName`) or a database of its own (`LocalPostgresServer.createDatabase()`).
/// Tests that stop or restart a server start a private one instead.
public enum SharedServers {
    private static let redisServer = Task { try await LocalRedisServer() }
    private static let postgresServer = Task { try await LocalPostgresServer() }

    public static func redis() async throws -> LocalRedisServer { try await redisServer.value }
    public static func postgres() async throws -> LocalPostgresServer { try await postgresServer.value }
}

/// A name no other test uses, for keys and streams on a shared server.
public func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UInt64.random(in: 0...UInt64.max))"
}
