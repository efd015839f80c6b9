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
        let host = reader.string("CDB_HOST", default: "127.0.0.1")
        redis = RedisConfiguration(
            host: host, port: reader.port("REDIS_PORT", default: 6379),
            password: reader.secret("REDIS_PASSWORD", default: ""), database: reader.integer("REDIS_DB", default: 0, range: 0...15),
            connectTimeout: .seconds(2), commandTimeout: .seconds(3), reconnectWindow: .zero, clientName: "cdbctl")
        postgres = PostgresConfiguration(
            host: host, port: reader.port("POSTGRES_PORT", default: 5432),
            user: reader.string("POSTGRES_USER", default: "claire_user"), password: reader.secret("POSTGRES_PASSWORD", default: ""),
            database: reader.string("POSTGRES_DB", default: "claire_de_binare"), connectTimeoutSeconds: 3,
            reconnectWindow: .zero, applicationName: "cdbctl")
        if redis.password?.isEmpty == true { redis.password = nil }
        if postgres.password?.isEmpty == true { postgres.password = nil }
        services = Self.serviceDefaults.map { name, variable, port in
            (name, "http://\(host):\(reader.port(variable, default: port))")
        }
        try reader.finish()
    }

    /// Service name, the variable holding its published port, and the runbook's port.
    static let serviceDefaults: [(String, String, Int)] = [
        ("cdb_ws", "CDB_WS_PORT", 8000), ("cdb_core", "CDB_CORE_PORT", 8001), ("cdb_risk", "CDB_RISK_PORT", 8002),
        ("cdb_execution", "CDB_EXECUTION_PORT", 8003), ("cdb_db_writer", "CDB_DB_WRITER_PORT", 8004),
    ]
}
