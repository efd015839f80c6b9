/// The body of a service's `/health`: `{"status":"ok","service":…,"version":…}` plus each dependency's state.
///
/// Encoded by the services and decoded by `cdbctl health`, so both sides use this one type.
public struct HealthReport: Sendable, Codable, Equatable {
    /// `ok` when every dependency is up, `down` when one is down, else `stale`.
    public var status: String
    public var service: String
    public var version: String
    public var uptimeSeconds: Double
    public var dependencies: [String: DependencyState]

    public init(status: String, service: String, version: String, uptimeSeconds: Double, dependencies: [String: DependencyState]) {
        self.status = status
        self.service = service
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.dependencies = dependencies
    }

    enum CodingKeys: String, CodingKey {
        case status, service, version, dependencies
        case uptimeSeconds = "uptime_seconds"
    }
}

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

/// The version every service and cdbctl report.
public enum CDBVersion {
    public static let current = "0.1.0"
}
