import Foundation
import HTTPClient
import LocalServers
import Logging
import RedisClient
import ServiceHost
import ServiceLifecycle
import Prometheus
import StackContract
import Testing

/// Runs a service host on a free port with the given checks, for as long as `body` runs.
private func withHost<Result: Sendable>(
    checks: [HealthCheck], _ body: @Sendable (String) async throws -> Result
) async throws -> Result {
    let metrics = ServiceMetrics(service: "cdb_test")
    metrics.counter("ticks_total", help: "Ticks seen").increment(by: Int64(3))
    let endpoints = ServiceEndpoints(service: "cdb_test", version: "1.2.3", checks: checks, metrics: metrics) {
        ["equity": 100_000.0]
    }
    let runner = ServiceRunner(endpoints: endpoints, host: "127.0.0.1", port: 0, workers: [], logger: Logger(label: "test"))
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let application = runner.application(onRunning: { continuation.yield($0) })
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await application.run() }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        defer { group.cancelAll() }
        return try await body("http://127.0.0.1:\(port)")
    }
}

@Suite("Service endpoints")
struct EndpointTests {
    let client = HTTPClient()

    @Test("/health is 200 with each dependency's state, and 503 naming Redis while Redis is stopped")
    func healthFollowsRedis() async throws {
        let redis = try await LocalRedisServer()
        try await withHost(checks: [.redis(redis.configuration)]) { base in
            let healthy = try await client.get(base + "/health")
            #expect(healthy.status == 200)
            let report = try healthy.decode(HealthReport.self)
            #expect(report.status == "ok")
            #expect(report.service == "cdb_test")
            #expect(report.version == "1.2.3")
            #expect(report.dependencies["redis"]?.status == .up)

            await redis.stop()
            let down = try await client.get(base + "/health")
            #expect(down.status == 503)
            let downReport = try down.decode(HealthReport.self)
            #expect(downReport.status == "down")
            #expect(downReport.dependencies["redis"]?.status == .down)
            #expect(downReport.dependencies["redis"]?.detail?.contains("redis 127.0.0.1:\(redis.port)") == true)

            try await redis.start()
            #expect(try await client.get(base + "/health").status == 200)
        }
    }

    @Test("a dependency that hangs makes /health answer 503 within the check timeout, not hang")
    func hangingCheckIsBounded() async throws {
        let hanging = HealthCheck(name: "feed") {
            try? await Task.sleep(for: .seconds(30))
            return DependencyState(status: .up)
        }
        try await withHost(checks: [hanging]) { base in
            let start = ContinuousClock.now
            let response = try await client.get(base + "/health", timeout: .seconds(20))
            #expect(response.status == 503)
            #expect(ContinuousClock.now - start < .seconds(10))  // the check hangs for 30 s; /health gives up after 2 s
        }
    }

    @Test("/metrics is Prometheus text with cdb_ names; /status is the service's JSON")
    func metricsAndStatus() async throws {
        try await withHost(checks: []) { base in
            let metrics = try await client.get(base + "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(metrics.text.contains("# TYPE cdb_ticks_total counter"))
            #expect(metrics.text.contains("cdb_ticks_total 3"))
            #expect(metrics.text.contains("cdb_process_resident_memory_bytes{service=\"cdb_test\"}"))
            let status = try await client.get(base + "/status")
            #expect(status.text == "{\"equity\":100000}")
        }
    }
}
