#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Primitives
import RedisClient
import StackContract

/// Something `/health` asks about on every request.
public struct HealthCheck: Sendable {
    public let name: String
    public let probe: @Sendable () async -> DependencyState

    public init(name: String, probe: @escaping @Sendable () async -> DependencyState) {
        self.name = name
        self.probe = probe
    }

    /// PING on a connection of the check's own, so a consumer blocked in `XREADGROUP` does not delay it.
    public static func redis(_ configuration: RedisConfiguration) -> HealthCheck {
        var quick = configuration
        quick.connectTimeout = .seconds(1)
        quick.commandTimeout = .seconds(1)
        quick.reconnectWindow = .zero
        let connection = LazyRedisConnection(quick)
        return HealthCheck(name: "redis") {
            let start = ContinuousClock.now
            do {
                let reply = try await connection.get().command("PING")
                let elapsed = ContinuousClock.now - start
                guard reply == .status("PONG") else { return DependencyState(status: .down, detail: "PING answered \(reply)") }
                return DependencyState(status: .up, latencyMs: elapsed.milliseconds)
            } catch {
                await connection.reset()
                return DependencyState(status: .down, detail: "\(error)")
            }
        }
    }
}

/// A connection made on first use and remade after a failure.
actor LazyRedisConnection {
    private let configuration: RedisConfiguration
    private var connection: RedisConnection?

    init(_ configuration: RedisConfiguration) {
        self.configuration = configuration
    }

    func get() async throws -> RedisConnection {
        if let connection { return connection }
        let fresh = try await RedisConnection(configuration)
        connection = fresh
        return fresh
    }

    func reset() {
        connection = nil
    }
}
