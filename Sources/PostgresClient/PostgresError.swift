/// Everything that can go wrong talking to PostgreSQL; server errors carry their SQLSTATE.
public enum PostgresError: Error, CustomStringConvertible, Equatable {
    /// The configuration is unusable (malformed DSN, bad port).
    case configuration(String)
    /// No connection could be made, or it broke; `reason` is libpq's message.
    case connection(endpoint: String, reason: String)
    /// The server rejected a statement.
    case server(ServerError)
    /// A value could not be read as the Swift type asked for.
    case decoding(column: String, value: String?, expected: String)

    /// The fields of an `ErrorResponse`.
    public struct ServerError: Sendable, Equatable {
        /// Five-character SQLSTATE, e.g. `42P01` for an unknown table.
        public var sqlState: String
        public var message: String
        public var detail: String?
        public var hint: String?
        /// 1-based character position in the statement, when the server gives one.
        public var position: Int?
        public var statement: String
    }

    public var description: String {
        switch self {
        case .configuration(let message):
            return "postgres: \(message)"
        case .connection(let endpoint, let reason):
            var text = "postgres \(endpoint): \(reason)"
            if reason.contains("password authentication failed") {
                text += " (check POSTGRES_USER and POSTGRES_PASSWORD)"
            } else if reason.contains("Connection refused") || reason.contains("timeout expired") {
                text += " (is PostgreSQL running there, and POSTGRES_HOST/POSTGRES_PORT right?)"
            } else if reason.contains("does not exist") {
                text += " (check POSTGRES_DB)"
            }
            return text
        case .server(let error):
            var text = "postgres: \(error.message) (SQLSTATE \(error.sqlState))"
            if let detail = error.detail { text += "; \(detail)" }
            if let hint = error.hint { text += "; hint: \(hint)" }
            let statement = error.statement.split(whereSeparator: \.isNewline).joined(separator: " ")
            text += " in: \(statement.prefix(120))"
            return text
        case .decoding(let column, let value, let expected):
            return "postgres: column '\(column)': expected \(expected), got \(value.map { "'\($0)'" } ?? "NULL")"
        }
    }

    /// The SQLSTATE of a server error, `nil` for the other kinds.
    public var sqlState: String? {
        if case .server(let error) = self { return error.sqlState }
        return nil
    }

    /// Whether the connection is gone, so a later call will reconnect.
    public var isConnectionLoss: Bool {
        if case .connection = self { return true }
        return false
    }
}
