#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RedisClient
import Synchronization

/// The state of one thing a service depends on, as `/health` reports it.
public struct DependencyState: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case up
        case down
        /// Reachable but not doing its job (no fresh market data).
        case stale
    }

    public var status: Status
    public var detail: String?
    public var latencyMs: Double?

    public init(status: Status, detail: String? = nil, latencyMs: Double? = nil) {
        self.status = status
        self.detail = detail
        self.latencyMs = latencyMs
    }

    enum CodingKeys: String, CodingKey {
        case status, detail
        case latencyMs = "latency_ms"
    }
}

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

extension Duration {
    /// The duration in (fractional) milliseconds.
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    /// The duration in (fractional) seconds.
    public var seconds: Double { milliseconds / 1000 }
}

/// Runs `operation`, giving up after `limit` with `fallback`. The operation is not awaited past the
/// deadline (a blocked C call cannot be cancelled); it finishes later, unobserved.
public func withDeadline<Value: Sendable>(
    _ limit: Duration, fallback: Value, _ operation: @escaping @Sendable () async -> Value
) async -> Value {
    let first = FirstResult<Value>()
    return await withCheckedContinuation { continuation in
        first.await(continuation)
        Task { first.resume(await operation()) }
        Task {
            try? await Task.sleep(for: limit)
            first.resume(fallback)
        }
    }
}

/// Resumes a continuation with whichever value arrives first.
private final class FirstResult<Value: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Value, Never>?, done: Bool)>((nil, false))

    func await(_ continuation: CheckedContinuation<Value, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func resume(_ value: Value) {
        let continuation = state.withLock { current -> CheckedContinuation<Value, Never>? in
            guard !current.done else { return nil }
            current.done = true
            return current.continuation
        }
        continuation?.resume(returning: value)
    }
}
