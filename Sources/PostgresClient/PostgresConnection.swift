import CLibPQ
import Primitives
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import PlainText

/// One connection to PostgreSQL over libpq.
///
/// The `PGconn` lives only inside this actor, whose methods run on a thread of its own (libpq blocks).
/// A connection that broke (server restart) is reset by the next call, with backoff within
/// `reconnectWindow`; the call that saw the break fails, since only the caller knows whether repeating
/// its statement is safe.
public actor PostgresConnection {
    public let configuration: PostgresConfiguration
    private let executor: DedicatedThreadExecutor
    // Touched only on the actor's thread; `nonisolated(unsafe)` lets the (nonisolated) deinit free it,
    // because `isolated deinit` miscompiles across modules in optimised builds ("circular reference").
    private nonisolated(unsafe) var connection: OpaquePointer?
    /// Set inside `transaction`: a connection lost then must not be silently replaced, or the rest of
    /// the body would run in autocommit on a new session.
    private var inTransaction = false

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Between reconnect attempts within `reconnectWindow`: 100 ms doubling to 2 s.
    private static let reconnectBackoff = Backoff(initialDelay: .milliseconds(100), maxDelay: .seconds(2))

    /// Connects once (no retries) and fails with a message naming the server and the cause.
    public init(_ configuration: PostgresConfiguration) async throws(PostgresError) {
        self.configuration = configuration
        self.executor = DedicatedThreadExecutor(name: "postgres \(configuration.endpoint)")
        try open()
    }

    deinit {
        if let connection { PQfinish(connection) }
        executor.shutdown()
    }

    /// Runs a statement and returns its rows. Parameters are `$1`, `$2` … in `sql`, sent separately (never spliced).
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws(PostgresError) -> PostgresRows {
        let live = try liveConnection()
        let result: OpaquePointer?
        if parameters.isEmpty {
            // PQexec (not PQexecParams) so a migration may hold several statements.
            result = PQexec(live, sql)
        } else {
            let texts = parameters.map { $0?.postgresText }
            result = Self.withCStrings(texts) { values in
                PQexecParams(live, sql, Int32(texts.count), nil, values, nil, nil, 0)
            }
        }
        return try rows(from: result, statement: sql)
    }

    /// Runs a statement and returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws(PostgresError) -> Int {
        try query(sql, parameters).affectedRows
    }

    /// Runs `body` between BEGIN and COMMIT on this connection, rolling back if it throws.
    /// `body` runs on the connection's own thread and nothing else can interleave with it.
    public func transaction<Result: Sendable>(
        _ body: @Sendable (isolated PostgresConnection) throws -> Result
    ) throws -> Result {
        try execute("BEGIN")
        inTransaction = true
        defer { inTransaction = false }
        do {
            let result = try body(self)
            inTransaction = false
            try execute("COMMIT")
            return result
        } catch {
            inTransaction = false
            // A broken connection has rolled back by itself; only roll back a live one.
            if connection != nil { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// `COPY … FROM STDIN`: streams `data` (in the statement's format) and returns the rows the server stored.
    @discardableResult
    public func copyIn(_ sql: String, data: [UInt8]) throws(PostgresError) -> Int {
        let live = try liveConnection()
        try expectCopy(PQexec(live, sql), status: PGRES_COPY_IN, statement: sql)
        // Chunks keep each PQputCopyData call (and libpq's send buffer) bounded.
        let chunk = 1 << 18
        var offset = 0
        while offset < data.count {
            let end = min(offset + chunk, data.count)
            let sent = data[offset..<end].withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    PQputCopyData(live, $0, Int32(buffer.count))
                }
            }
            if sent != 1 { throw failure(statement: sql) }
            offset = end
        }
        if PQputCopyEnd(live, nil) != 1 { throw failure(statement: sql) }
        return try rows(from: PQgetResult(live), statement: sql, drain: true).affectedRows
    }

    /// `COPY … FROM STDIN` in text format for rows of optional values (NULL as `\N`).
    @discardableResult
    public func copyIn(_ sql: String, rows: [[String?]]) throws(PostgresError) -> Int {
        try copyIn(sql, data: CopyTextFormat.encode(rows))
    }

    /// `COPY … TO STDOUT`: returns everything the server sent, e.g. CSV with a header.
    public func copyOut(_ sql: String) throws(PostgresError) -> [UInt8] {
        var output: [UInt8] = []
        try copyOut(sql) { output.append(contentsOf: $0) }
        return output
    }

    /// `COPY … TO STDOUT` straight into a file (created or truncated); returns the bytes written.
    @discardableResult
    public func copyOut(_ sql: String, toFile path: String) throws -> Int {
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
        defer { Glibc.close(descriptor) }
        var written = 0
        var writeError: FileWriteError?
        try copyOut(sql) { bytes in
            var offset = 0
            while writeError == nil, offset < bytes.count {
                let count = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { writeError = FileWriteError(path: path, reason: String(cString: strerror(errno))); return }
                offset += count
            }
            written += offset
        }
        if let writeError { throw writeError }
        return written
    }

    private func copyOut(_ sql: String, chunk: (UnsafeBufferPointer<UInt8>) -> Void) throws(PostgresError) {
        let live = try liveConnection()
        try expectCopy(PQexec(live, sql), status: PGRES_COPY_OUT, statement: sql)
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(live, &buffer, 0)
            if length > 0, let buffer {
                buffer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { chunk(UnsafeBufferPointer(start: $0, count: Int(length))) }
                PQfreemem(buffer)
            } else if length == -1 {
                break
            } else {
                throw failure(statement: sql)
            }
        }
        _ = try rows(from: PQgetResult(live), statement: sql, drain: true)
    }

    /// Whether the server answers `SELECT 1` right now (reconnecting if needed).
    public func isAlive() -> Bool {
        (try? query("SELECT 1")) != nil
    }

    /// Closes the connection; a later call reconnects.
    public func close() {
        if let connection { PQfinish(connection) }
        connection = nil
    }

    // MARK: connection management

    private func open() throws(PostgresError) {
        let pairs = configuration.keywordValues
        let fresh = Self.withCStrings(pairs.map { $0.0 } + [nil]) { keywords in
            Self.withCStrings(pairs.map { $0.1 } + [nil]) { values in
                PQconnectdbParams(keywords, values, 0)
            }
        }
        guard let fresh else { throw .connection(endpoint: configuration.endpoint, reason: "cannot allocate a libpq connection") }
        guard PQstatus(fresh) == CONNECTION_OK else {
            let reason = Self.message(PQerrorMessage(fresh))
            PQfinish(fresh)
            throw .connection(endpoint: configuration.endpoint, reason: reason)
        }
        // libpq prints NOTICE/WARNING messages to stderr by default; they are not errors and would
        // pollute the services' logs (and the runbook's ERROR greps), so they are dropped here.
        PQsetNoticeProcessor(fresh, { _, _ in }, nil)
        connection = fresh
    }

    private func liveConnection() throws(PostgresError) -> OpaquePointer {
        if let connection, PQstatus(connection) == CONNECTION_OK { return connection }
        if inTransaction {
            throw .connection(endpoint: configuration.endpoint, reason: "connection lost inside a transaction; it was rolled back")
        }
        close()
        let deadline = ContinuousClock.now + configuration.reconnectWindow
        var failures = 0
        while true {
            do {
                try open()
                if let connection { return connection }
            } catch {
                failures += 1
                let delay = Self.reconnectBackoff.delay(afterFailures: failures)
                if ContinuousClock.now + delay > deadline { throw error }
                OSThread.sleep(for: delay)
            }
        }
    }

    /// Turns a result into rows or a typed error, freeing it; `drain` reads the trailing NULL result after COPY.
    private func rows(from result: OpaquePointer?, statement: String, drain: Bool = false) throws(PostgresError) -> PostgresRows {
        guard let result else { throw failure(statement: statement) }
        defer {
            PQclear(result)
            if drain, let connection { while let extra = PQgetResult(connection) { PQclear(extra) } }
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            let columnCount = Int(PQnfields(result))
            let rowCount = Int(PQntuples(result))
            let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
            var values: [[String?]] = []
            values.reserveCapacity(rowCount)
            for row in 0..<Int32(rowCount) {
                values.append((0..<Int32(columnCount)).map { column in
                    PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                })
            }
            let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
            return PostgresRows(columns: columns, values: values, affectedRows: affected)
        default:
            throw serverError(result, statement: statement)
        }
    }

    private func expectCopy(_ result: OpaquePointer?, status: ExecStatusType, statement: String) throws(PostgresError) {
        guard let result else { throw failure(statement: statement) }
        defer { PQclear(result) }
        guard PQresultStatus(result) == status else { throw serverError(result, statement: statement) }
    }

    private func serverError(_ result: OpaquePointer, statement: String) -> PostgresError {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
        }
        guard let sqlState = field("C") else {
            // No SQLSTATE: the failure was on our side of the wire (connection dropped mid-statement).
            return failure(statement: statement)
        }
        return .server(.init(
            sqlState: sqlState, message: field("M") ?? Self.message(PQresultErrorMessage(result)),
            detail: field("D"), hint: field("H"), position: field("P").flatMap { Int($0) }, statement: statement))
    }

    /// The error for a call that failed without a server error: usually a lost connection.
    private func failure(statement: String) -> PostgresError {
        guard let connection else { return .connection(endpoint: configuration.endpoint, reason: "not connected") }
        let reason = Self.message(PQerrorMessage(connection))
        if PQstatus(connection) != CONNECTION_OK { close() }
        return .connection(endpoint: configuration.endpoint, reason: reason.isEmpty ? "connection lost" : reason)
    }

    static func message(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        return String(cString: text).split(whereSeparator: \.isNewline)
            .map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }.joined(separator: "; ")
    }

    /// Hands C a `const char *const *` array built from optional strings (nil stays a NULL pointer).
    static func withCStrings<Result>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result) -> Result {
        let copies = strings.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { $0.map { UnsafePointer($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// PostgreSQL's COPY text format: tab-separated, `\N` for NULL, backslash escapes.
public enum CopyTextFormat {
    public static func encode(_ rows: [[String?]]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(rows.count * 64)
        for row in rows {
            for (index, value) in row.enumerated() {
                if index > 0 { output.append(0x09) }
                guard let value else {
                    output.append(contentsOf: [0x5C, 0x4E])
                    continue
                }
                for byte in value.utf8 {
                    switch byte {
                    case 0x5C: output.append(contentsOf: [0x5C, 0x5C])
                    case 0x09: output.append(contentsOf: [0x5C, 0x74])
                    case 0x0A: output.append(contentsOf: [0x5C, 0x6E])
                    case 0x0D: output.append(contentsOf: [0x5C, 0x72])
                    default: output.append(byte)
                    }
                }
            }
            output.append(0x0A)
        }
        return output
    }
}

/// A file `copyOut(_:toFile:)` could not create or write, with the system's reason.
public struct FileWriteError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}
