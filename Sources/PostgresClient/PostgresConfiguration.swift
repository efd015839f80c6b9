import CLibPQ
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlainText

/// Where a PostgreSQL server is and who we are there.
public struct PostgresConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// libpq's `connect_timeout`, whole seconds (libpq treats values below 2 as 2).
    public var connectTimeoutSeconds: Int
    /// How long a call keeps trying to re-establish a lost connection (with backoff) before it fails.
    public var reconnectWindow: Duration
    /// Shown in `pg_stat_activity`, so an operator can tell the services' sessions apart.
    public var applicationName: String

    public init(
        host: String = "127.0.0.1", port: Int = 5432, user: String = "claire_user", password: String? = nil,
        database: String = "claire_de_binare", connectTimeoutSeconds: Int = 5, reconnectWindow: Duration = .seconds(10),
        applicationName: String = "claire-de-binare"
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.reconnectWindow = reconnectWindow
        self.applicationName = applicationName
    }

    /// Parses a libpq connection string: a URI (`postgresql://user:pw@host:port/db`) or `key=value` pairs.
    public init(dsn: String) throws(PostgresError) {
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(dsn, &message) else {
            let reason = message.map { String(cString: $0).trimmingWhitespace() } ?? "out of memory"
            PQfreemem(message)
            throw .configuration("malformed connection string: \(reason)")
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            cursor += 1
        }
        self.init()
        if let host = values["host"] ?? values["hostaddr"] { self.host = host }
        if let port = values["port"] {
            guard let number = Int(port), (1...65535).contains(number) else {
                throw .configuration("port: expected an integer in 1-65535, got '\(port)'")
            }
            self.port = number
        }
        if let user = values["user"] { self.user = user }
        password = values["password"]
        if let database = values["dbname"] { self.database = database }
        if let timeout = values["connect_timeout"] {
            guard let seconds = Int(timeout), seconds >= 0 else {
                throw .configuration("connect_timeout: expected a whole number of seconds, got '\(timeout)'")
            }
            connectTimeoutSeconds = seconds
        }
        if let name = values["application_name"] { applicationName = name }
    }

    /// `host:port/database`, the way errors name the target.
    public var endpoint: String { "\(host):\(port)/\(database)" }

    var keywordValues: [(String, String)] {
        var pairs = [("host", host), ("port", String(port)), ("user", user), ("dbname", database),
                     ("connect_timeout", String(connectTimeoutSeconds)), ("application_name", applicationName),
                     // Timestamps come back in UTC, whatever the server's default zone, so decoding needs no zone logic.
                     ("options", "-c TimeZone=UTC")]
        if let password { pairs.append(("password", password)) }
        return pairs
    }
}
