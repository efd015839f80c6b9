import Foundation
import HTTPClient
import LocalServers
import PostgresClient
import Testing
import YAMLParser

@Suite("Metric names in alerts and dashboard")
struct MetricNameTests {
    @Test("every cdb_ metric the alert rules and the dashboard query is exported by a running service")
    func namesExist() async throws {
        let exported = try await Self.exportedMetricNames()
        #expect(exported.contains("cdb_signals_total"), "sanity: the services were scraped, got \(exported.sorted())")

        var queried: [(where: String, name: String)] = []
        let alerts = try StackFiles.yaml("prometheus/alerts.yml")
        if let list = alerts["groups"], case .sequence(let groups) = list.kind {
            for group in groups {
                guard let ruleList = group["rules"], case .sequence(let rules) = ruleList.kind else { continue }
                for rule in rules {
                    guard let expr = rule["expr"] else { continue }
                    let place = "services/prometheus/alerts.yml:\(expr.mark) (\(rule["alert"]?.scalar ?? "?"))"
                    queried += StackFiles.metricNames(in: expr.scalar ?? "").map { (place, $0) }
                }
            }
        }
        for panel in try StackFiles.dashboard().panels {
            for target in panel.targets {
                queried += StackFiles.metricNames(in: target.expr ?? "").map { ("dashboard panel \(panel.id) (\(panel.title))", $0) }
            }
        }
        #expect(queried.count >= 8, "the alert rules and panels were read: \(queried)")
        for (place, name) in queried {
            #expect(exported.contains(name), "\(place): \(name) is not exported by any service")
        }
    }

    /// Starts the five services on the shared test servers and collects the metric names of their `/metrics`.
    static func exportedMetricNames() async throws -> Set<String> {
        let redis = try await SharedServers.redis()
        let postgres = try await SharedServers.postgres()
        let database = try await postgres.createDatabase()
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var processes: [ChildProcess] = []
        var logs: [URL] = []
        defer {
            for process in processes { process.send(SIGKILL); process.waitForExit() }
            for log in logs { try? FileManager.default.removeItem(at: log) }
        }
        var names: Set<String> = []
        for service in ["cdb_ws", "cdb_core", "cdb_risk", "cdb_execution", "cdb_db_writer"] {
            let executable = binaries.appendingPathComponent(service).path
            guard FileManager.default.isExecutableFile(atPath: executable) else {
                throw LocalServerError(message: "\(executable) is missing: build with `swift build --build-tests`")
            }
            let port = try freeLoopbackPort()
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(service)-\(UUID().uuidString).log")
            logs.append(log)
            let environment = [
                "HTTP_PORT": "\(port)", "REDIS_PORT": "\(redis.port)", "POSTGRES_PORT": "\(postgres.port)",
                "POSTGRES_PASSWORD": postgres.password, "POSTGRES_DB": database.database, "LOG_LEVEL": "warning",
                "CONSUMER_NAME": uniqueName(service), "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin",
            ]
            processes.append(try ChildProcess(executable, [], outputPath: log.path, environment: environment))
            let text = try await Self.metrics(of: service, port: port, log: log)
            for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
                if let name = line.split(separator: " ").dropFirst(2).first { names.insert(String(name)) }
            }
        }
        return names
    }

    /// `GET /metrics` once the service answers, or an error quoting its log.
    static func metrics(of service: String, port: Int, log: URL) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let response = try? await HTTPClient().get("http://127.0.0.1:\(port)/metrics", timeout: .seconds(2)),
               response.status == 200 {
                return response.text
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let tail = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(10).joined(separator: "\n")
        throw LocalServerError(message: "\(service) did not serve /metrics on port \(port) within 30 s; its log ends:\n\(tail)")
    }
}
