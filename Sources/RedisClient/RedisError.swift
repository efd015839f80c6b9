/// Everything that can go wrong talking to Redis, each naming the server and what to try.
public enum RedisError: Error, CustomStringConvertible, Equatable {
    /// The configuration itself is unusable (bad URL, port out of range).
    case invalidConfiguration(String)
    /// No connection could be made or it broke; `reason` is hiredis' `errstr`.
    case connection(endpoint: String, reason: String)
    /// The server answered with an error reply (`WRONGPASS`, `NOGROUP`, `WRONGTYPE` …).
    case server(endpoint: String, command: String, message: String)
    /// The reply did not have the shape the command promises.
    case unexpectedReply(command: String, reply: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message):
            return "redis: \(message)"
        case .connection(let endpoint, let reason):
            return "redis \(endpoint): \(reason) (is redis-server running there, and REDIS_HOST/REDIS_PORT right?)"
        case .server(let endpoint, let command, let message):
            if message.hasPrefix("WRONGPASS") || message.hasPrefix("NOAUTH") || message.contains("invalid password") {
                return "redis \(endpoint): authentication failed: \(message) (check REDIS_PASSWORD)"
            }
            return "redis \(endpoint): \(command) failed: \(message)"
        case .unexpectedReply(let command, let reply):
            return "redis: unexpected reply to \(command): \(reply)"
        }
    }

    /// Whether the connection is gone, so a later call will reconnect.
    public var isConnectionLoss: Bool {
        if case .connection = self { return true }
        return false
    }
}
