import Foundation
import HTTPClient
import LocalServers
import Testing

/// The service executables built next to this test bundle.
enum ServiceBinaries {
    static let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()

    static func path(_ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw LocalServerError(message: "\(path) is missing: build with `swift build --build-tests`")
        }
        return path
    }

    /// Starts a service with `environment` (plus PATH) and its log in a temporary file.
    static func start(_ name: String, environment: [String: String]) throws -> (ChildProcess, log: URL) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).log")
        var env = environment
        env["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        return (try ChildProcess(try path(name), [], outputPath: log.path, environment: env), log)
    }

    /// Waits until `GET url` answers 200.
    static func waitHealthy(_ url: String, within limit: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let response = try? await HTTPClient().get(url, timeout: .seconds(2)), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw LocalServerError(message: "\(url) did not answer 200 within \(limit)")
    }
}

@Suite("Service processes")
struct ServiceProcessTests {
    @Test("SIGTERM: a running service finishes its work and exits 0 well within docker's 10 s")
    func sigtermShutdown() async throws {
        let redis = try await SharedServers.redis()
        let port = try freeLoopbackPort()
        let (process, log) = try ServiceBinaries.start("cdb_core", environment: ["REDIS_PORT": "\(redis.port)", "HTTP_PORT": "\(port)"])
        defer { try? FileManager.default.removeItem(at: log) }
        try await ServiceBinaries.waitHealthy("http://127.0.0.1:\(port)/health")
        let start = ContinuousClock.now
        process.send(SIGTERM)
        let status = await process.exitStatus()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "log:\n\(output)")
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(output.contains("INFO cdb_core: stopped"))
    }

    @Test("invalid configuration: exit 2 with every problem on its own line, nothing started")
    func configurationErrors() async throws {
        let (process, log) = try ServiceBinaries.start("cdb_risk", environment: [
            "MAX_POSITION_PCT": "abc", "REDIS_PORT": "x", "MAX_DAILY_DRAWDOWN_PCT": "0.9",
        ])
        defer { try? FileManager.default.removeItem(at: log) }
        let status = await process.exitStatus()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(status == 2)
        #expect(output.contains("cdb_risk: invalid configuration (3 problems):"))
        #expect(output.contains("  REDIS_PORT: expected an integer, got 'x'"))
        #expect(output.contains("  MAX_POSITION_PCT: expected a number, got 'abc'"))
        #expect(output.contains("  MAX_DAILY_DRAWDOWN_PCT: 0.9 is outside the valid range 0.01-0.5"))
        #expect(!output.contains("Fatal error"))
    }

    @Test("an unreachable Redis is a clear error naming the target, not a crash")
    func unreachableRedis() async throws {
        let deadPort = try freeLoopbackPort()
        let (process, log) = try ServiceBinaries.start("cdb_execution", environment: [
            "REDIS_PORT": "\(deadPort)", "HTTP_PORT": "\(try freeLoopbackPort())",
        ])
        defer { try? FileManager.default.removeItem(at: log) }
        try await Task.sleep(for: .seconds(1))
        process.send(SIGTERM)
        let status = await process.exitStatus()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(status == 0)
        #expect(output.contains("ERROR cdb_execution: stream consumer failed, retrying"))
        #expect(output.contains("redis 127.0.0.1:\(deadPort)"))
        #expect(!output.contains("Fatal error"))
    }
}
