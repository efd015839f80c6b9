#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Primitives

/// Where a Redis server is and how long to wait for it.
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var password: String?
    /// Redis 6 ACL user; `nil` authenticates as the default user.
    public var username: String?
    public var database: Int
    public var connectTimeout: Duration
    /// Read/write timeout of one command; blocking reads (`XREADGROUP … BLOCK`) add their block time.
    public var commandTimeout: Duration
    /// How long a call keeps trying to re-establish a lost connection (with backoff) before it fails.
    public var reconnectWindow: Duration
    /// Shown by `CLIENT LIST`, so an operator can tell which service holds which connection.
    public var clientName: String?

    public init(
        host: String = "127.0.0.1", port: Int = 6379, password: String? = nil, username: String? = nil,
        database: Int = 0, connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(5),
        reconnectWindow: Duration = .seconds(5), clientName: String? = nil
    ) {
        self.host = host
        self.port = port
        self.password = password
        self.username = username
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectWindow = reconnectWindow
        self.clientName = clientName
    }

    /// Parses `redis://[[user]:password@]host[:port][/db]`.
    public init(url: String) throws(RedisError) {
        guard let components = URLComponents(string: url), components.scheme == "redis",
              let host = components.host, !host.isEmpty
        else {
            throw .invalidConfiguration("'\(url)' is not a redis URL (expected redis://[:password@]host[:port][/db])")
        }
        self.init(host: host)
        if let port = components.port {
            guard (1...65535).contains(port) else { throw .invalidConfiguration("port \(port) in '\(url)' is outside 1-65535") }
            self.port = port
        }
        if let user = components.user, !user.isEmpty { username = user }
        password = components.password
        let path = String(components.path.drop { $0 == "/" }.reversed().drop { $0 == "/" }.reversed())
        if !path.isEmpty {
            guard let database = Int(path), database >= 0 else {
                throw .invalidConfiguration("database '\(path)' in '\(url)' is not a non-negative integer")
            }
            self.database = database
        }
    }

    /// `host:port`, the way errors name the target.
    public var endpoint: String { "\(host):\(port)" }
}

extension Duration {
    var timeval: timeval {
        let micros = Int(seconds * 1_000_000)
        return Glibc.timeval(tv_sec: micros / 1_000_000, tv_usec: micros % 1_000_000)
    }
}
