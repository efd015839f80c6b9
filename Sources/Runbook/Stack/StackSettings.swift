import Foundation
import PostgresClient
import RedisClient
import StackContract

/// Where the stack's parts are, read from the environment (and `.env`) with the runbook's names and defaults.
public struct StackSettings: Sendable {
    public var redis: RedisConfiguration
    public var postgres: PostgresConfiguration
    /// The services' HTTP bases, in the runbook's order (cdb_ws 8000 … cdb_execution 8003, cdb_db_writer 8004).
    public var services: [(name: String, baseURL: String)]

    /// Reads every setting, collecting all problems into one `ConfigurationError`.
    public init(environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment)
        // The host's view of the stack: published ports on loopback, not the in-network names (REDIS_HOST=cdb_redis).
        let host = reader.read(.cdbHost)
        redis = RedisConfiguration(
            host: host, port: reader.read(.redisPort),
            password: reader.credential(.redisPassword), database: reader.read(.redisDB),
            connectTimeout: .seconds(2), commandTimeout: .seconds(3), reconnectWindow: .zero, clientName: "cdbctl")
        postgres = PostgresConfiguration(
            host: host, port: reader.read(.postgresPort),
            user: reader.read(.postgresUser), password: reader.credential(.postgresPassword),
            database: reader.read(.postgresDB), connectTimeoutSeconds: 3,
            reconnectWindow: .zero, applicationName: "cdbctl")
        if redis.password?.isEmpty == true { redis.password = nil }
        if postgres.password?.isEmpty == true { postgres.password = nil }
        services = Self.servicePorts.map { name, port in
            (name, "http://\(host):\(reader.read(port))")
        }
        try reader.finish()
    }

    /// Each service and the setting holding its published port (the runbook's 8000-8004 by default).
    static let servicePorts: [(String, Setting<Int>)] = [
        ("cdb_ws", .wsPort), ("cdb_core", .corePort), ("cdb_risk", .riskPort), ("cdb_execution", .executionPort), ("cdb_db_writer", .dbWriterPort),
    ]
}

/// The `stack` services in the runbook's order.
public let stackServices = ["cdb_redis", "cdb_postgres", "cdb_db_writer", "cdb_ws", "cdb_core", "cdb_risk",
                            "cdb_execution", "cdb_prometheus", "cdb_grafana"]
