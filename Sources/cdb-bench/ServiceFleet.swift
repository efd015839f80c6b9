import Foundation
import HTTPClient
import LocalServers

/// The five service executables of this build (the directory cdb-bench itself runs from), started
/// against the benchmark's own servers; each logs to a file in `logDirectory`.
final class ServiceFleet {
    let binaries: URL
    let logDirectory: URL
    private var running: [(name: String, process: ChildProcess, port: Int)] = []

    init() throws {
        guard let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() else {
            throw BenchmarkFailure("cannot tell where cdb-bench runs from")
        }
        binaries = executable.deletingLastPathComponent()
        logDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("cdb-bench-logs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
    }

    deinit {
        stopAll()
        try? FileManager.default.removeItem(at: logDirectory)
    }

    /// Starts `name` with `environment` (plus PATH and an HTTP port of its own) and waits for `/health` 200.
    func start(_ name: String, environment: [String: String]) async throws {
        let path = binaries.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BenchmarkFailure("\(path) is missing: build the package first (swift build -c release)")
        }
        let port = try freeLoopbackPort()
        var env = environment
        env["HTTP_PORT"] = "\(port)"
        env["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        let log = logDirectory.appendingPathComponent("\(name).log").path
        let process = try ChildProcess(path, [], outputPath: log, environment: env)
        running.append((name, process, port))
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let response = try? await HTTPClient().get("http://127.0.0.1:\(port)/health", timeout: .seconds(2)), response.status == 200 { return }
            if process.hasExited { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let tail = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(8).joined(separator: "\n")
        throw BenchmarkFailure("\(name) did not become healthy; last lines of its log:\n\(tail)")
    }

    /// VmRSS of every running service and its anonymous part (RssAnon; the rest is mapped code, mostly
    /// the Swift runtime and Foundation shared by all five), in bytes, in start order.
    func residentMemory() -> [(name: String, bytes: Int, anonymousBytes: Int)] {
        running.map { service in
            let status = (try? String(contentsOfFile: "/proc/\(service.process.pid)/status", encoding: .utf8)) ?? ""
            func kilobytes(_ field: String) -> Int {
                status.split(separator: "\n").first { $0.hasPrefix(field) }
                    .flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
            }
            return (service.name, kilobytes("VmRSS:") * 1024, kilobytes("RssAnon:") * 1024)
        }
    }

    /// The mean of every hop latency histogram, in ms, as each service's /metrics reports it ("cdb_risk ← signals").
    func meanHopLatencies() async -> [(hop: String, milliseconds: Double, count: Int)] {
        var hops: [(hop: String, milliseconds: Double, count: Int)] = []
        for service in running {
            guard let response = try? await HTTPClient().get("http://127.0.0.1:\(service.port)/metrics") else { continue }
            var sums: [String: Double] = [:], counts: [String: Double] = [:]
            for line in String(decoding: response.body, as: UTF8.self).split(separator: "\n") {
                for (prefix, isSum) in [("cdb_hop_latency_seconds_sum{from=\"", true), ("cdb_hop_latency_seconds_count{from=\"", false)]
                where line.hasPrefix(prefix) {
                    let rest = line.dropFirst(prefix.count)
                    guard let quote = rest.firstIndex(of: "\""), let value = rest.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
                    if isSum { sums[String(rest[..<quote])] = value } else { counts[String(rest[..<quote])] = value }
                }
            }
            for (hop, count) in counts.sorted(by: { $0.key < $1.key }) where count > 0 {
                hops.append(("\(service.name) ← \(hop)", (sums[hop] ?? 0) / count * 1000, Int(count)))
            }
        }
        return hops
    }

    /// SIGTERM to every service, then waits for each to exit.
    func stopAll() {
        for service in running { service.process.send(SIGTERM) }
        for service in running { service.process.waitForExit() }
        running.removeAll()
    }
}
