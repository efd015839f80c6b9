import Foundation
import HTTPClient
import PostgresClient
import Primitives
import RedisClient
import StackContract

/// The outcome of probing one part of the stack.
public struct ProbeResult: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case up, down, degraded
    }

    public var target: String
    public var status: Status
    public var latencyMs: Double?
    public var detail: String

    enum CodingKeys: String, CodingKey {
        case target, status, detail
        case latencyMs = "latency_ms"
    }
}

/// Probes Redis, PostgreSQL and every service's `/health`, concurrently, each with a deadline.
public struct HealthSurvey: Sendable {
    public var settings: StackSettings
    public var timeout: Duration

    public init(settings: StackSettings, timeout: Duration = .seconds(3)) {
        self.settings = settings
        self.timeout = timeout
    }

    /// One result per target, in a fixed order (Redis, PostgreSQL, then the services).
    public func run() async -> [ProbeResult] {
        var probes: [(String, @Sendable () async -> ProbeResult)] = [
            ("redis", { await Self.probeRedis(settings.redis) }),
            ("postgres", { await Self.probePostgres(settings.postgres) }),
        ]
        for service in settings.services {
            probes.append((service.name, { await Self.probeService(service.name, baseURL: service.baseURL, timeout: timeout) }))
        }
        let limit = timeout
        let results = await withTaskGroup(of: (Int, ProbeResult).self) { group in
            for (index, probe) in probes.enumerated() {
                group.addTask {
                    let fallback = ProbeResult(target: probe.0, status: .down, latencyMs: nil, detail: "no answer within \(limit)")
                    // On time even while a probe blocks in a C connect: cdbctl health answers within its timeout.
                    return (index, await withDeadline(limit, fallback: fallback, waiting: .atMost(.zero), probe.1))
                }
            }
            var collected: [(Int, ProbeResult)] = []
            for await result in group { collected.append(result) }
            return collected
        }
        return results.sorted { $0.0 < $1.0 }.map(\.1)
    }

    static func probeRedis(_ configuration: RedisConfiguration) async -> ProbeResult {
        let start = ContinuousClock.now
        do {
            let redis = try await RedisConnection(configuration)
            let reply = try await redis.command("PING")
            let latency = (ContinuousClock.now - start).milliseconds
            return ProbeResult(target: "redis", status: reply == .status("PONG") ? .up : .down, latencyMs: latency,
                               detail: "\(configuration.endpoint) answered \(reply)")
        } catch {
            return ProbeResult(target: "redis", status: .down, latencyMs: nil, detail: "\(error)")
        }
    }

    static func probePostgres(_ configuration: PostgresConfiguration) async -> ProbeResult {
        let start = ContinuousClock.now
        do {
            let db = try await PostgresConnection(configuration)
            let version = try await db.query("SHOW server_version").first?["server_version"] ?? "?"
            return ProbeResult(target: "postgres", status: .up, latencyMs: (ContinuousClock.now - start).milliseconds,
                               detail: "\(configuration.endpoint), PostgreSQL \(version)")
        } catch {
            return ProbeResult(target: "postgres", status: .down, latencyMs: nil, detail: "\(error)")
        }
    }

    static func probeService(_ name: String, baseURL: String, timeout: Duration) async -> ProbeResult {
        let url = baseURL + "/health"
        do {
            let response = try await HTTPClient().get(url, timeout: timeout)
            let report = try? response.decode(HealthReport.self)
            let latency = response.totalTime.milliseconds
            guard response.status == 200, report?.status == "ok" else {
                let down = report?.dependencies.filter { $0.value.status != .up }
                    .map { "\($0.key) \($0.value.status.rawValue)\($0.value.detail.map { ": \($0)" } ?? "")" }.sorted() ?? []
                let detail = "\(url) answered \(response.status)" + (down.isEmpty ? "" : " (\(down.joined(separator: "; ")))")
                return ProbeResult(target: name, status: response.status == 200 ? .degraded : .down, latencyMs: latency, detail: detail)
            }
            return ProbeResult(target: name, status: .up, latencyMs: latency, detail: "\(url) ok, version \(report?.version ?? "?")")
        } catch {
            return ProbeResult(target: name, status: .down, latencyMs: nil, detail: "\(error)")
        }
    }
}
