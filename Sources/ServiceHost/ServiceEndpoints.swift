#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import Hummingbird
import NIOCore
import Primitives
import StackContract

/// What a service shows on `/status`: any JSON document it likes.
public typealias StatusProvider = @Sendable () async -> any Encodable & Sendable

/// The HTTP side of a service: `/health`, `/status`, `/metrics`, plus routes a service adds itself.
public struct ServiceEndpoints: Sendable {
    public let service: String
    public let version: String
    public let checks: [HealthCheck]
    public let status: StatusProvider
    public let metrics: ServiceMetrics
    private let started = ContinuousClock.now

    public init(service: String, version: String, checks: [HealthCheck], metrics: ServiceMetrics, status: @escaping StatusProvider) {
        self.service = service
        self.version = version
        self.checks = checks
        self.metrics = metrics
        self.status = status
    }

    /// Runs every check concurrently, each bounded by `timeout`; "ok" only when all are up. The answer comes on time
    /// even while a probe sits in a blocking C call (a PING to a frozen Redis): that probe is cancelled and left to end.
    public func health(timeout: Duration = .seconds(2)) async -> HealthReport {
        let states = await withTaskGroup(of: (String, DependencyState).self) { group in
            for check in checks {
                group.addTask {
                    let state = await withDeadline(
                        timeout, fallback: DependencyState(status: .down, detail: "no answer within \(timeout)"), waiting: .atMost(.zero)
                    ) {
                        await check.probe()
                    }
                    return (check.name, state)
                }
            }
            var collected: [String: DependencyState] = [:]
            for await (name, state) in group { collected[name] = state }
            return collected
        }
        let overall: String
        if states.values.allSatisfy({ $0.status == .up }) {
            overall = "ok"
        } else if states.values.contains(where: { $0.status == .down }) {
            overall = "down"
        } else {
            overall = "stale"
        }
        return HealthReport(status: overall, service: service, version: version,
                            uptimeSeconds: (ContinuousClock.now - started).seconds, dependencies: states)
    }

    /// Adds the three standard routes to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("health") { _, _ -> Response in
            let report = await health()
            return Self.json(report, status: report.status == "ok" ? .ok : .serviceUnavailable)
        }
        router.get("status") { _, _ -> Response in
            Self.json(await status(), status: .ok)
        }
        router.get("metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
    }

    /// Encodes `value` as a JSON response, keys sorted so the output is stable.
    public static func json(_ value: any Encodable, status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let body = (try? encoder.encode(value)) ?? Data("{\"error\":\"status could not be encoded\"}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// An operator action over HTTP (`POST`), allowed only with the configured token in `X-Operator-Token`.
public enum OperatorRoute {
    /// Registers `POST path`; without a configured token the action is disabled (403) rather than open.
    public static func register<Context: RequestContext>(
        on router: Router<Context>, path: String, token: String, tokenVariable: String,
        action: @escaping @Sendable () async throws -> any Encodable & Sendable
    ) {
        router.post(RouterPath(path)) { request, _ -> Response in
            guard !token.isEmpty else {
                return ServiceEndpoints.json(["error": "disabled: set \(tokenVariable) to enable this operator action"], status: .forbidden)
            }
            guard let presented = request.headers[HTTPField.Name("X-Operator-Token")!], presented == token else {
                return ServiceEndpoints.json(["error": "missing or wrong X-Operator-Token"], status: .unauthorized)
            }
            return ServiceEndpoints.json(try await action(), status: .ok)
        }
    }
}
