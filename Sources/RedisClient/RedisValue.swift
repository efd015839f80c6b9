import CHiredis

/// One reply of the RESP2 protocol.
public enum RedisValue: Sendable, Hashable, CustomStringConvertible {
    case status(String)
    case bulk([UInt8])
    case integer(Int64)
    case array([RedisValue])
    case null
    case error(String)

    /// The reply as text, for status and bulk replies.
    public var string: String? {
        switch self {
        case .status(let text): return text
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    /// The raw bytes of a bulk reply.
    public var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { return bytes }
        return nil
    }

    public var integer: Int64? {
        switch self {
        case .integer(let value): return value
        case .bulk, .status: return string.flatMap { Int64($0) }
        default: return nil
        }
    }

    public var array: [RedisValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    public var isNull: Bool { self == .null }

    public var description: String {
        switch self {
        case .status(let text): return text
        case .bulk: return "\"\(string ?? "")\""
        case .integer(let value): return "(integer) \(value)"
        case .array(let values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .null: return "(nil)"
        case .error(let message): return "(error) \(message)"
        }
    }
}

/// A command argument: text or raw bytes, sent binary-safe either way.
public protocol RedisArgument: Sendable {
    /// Appends the argument to `buffer` as a RESP bulk string (`$<length>\r\n<bytes>\r\n`).
    func appendBulk(to buffer: inout [UInt8])
}

extension String: RedisArgument {
    public func appendBulk(to buffer: inout [UInt8]) {
        RESP.appendBulkHeader(utf8.count, to: &buffer)
        buffer.append(contentsOf: utf8)
        buffer.append(contentsOf: RESP.crlf)
    }
}

extension Substring: RedisArgument {
    public func appendBulk(to buffer: inout [UInt8]) {
        String(self).appendBulk(to: &buffer)
    }
}

extension Array: RedisArgument where Element == UInt8 {
    public func appendBulk(to buffer: inout [UInt8]) {
        RESP.appendBulkHeader(count, to: &buffer)
        buffer.append(contentsOf: self)
        buffer.append(contentsOf: RESP.crlf)
    }
}

extension Int: RedisArgument {
    public func appendBulk(to buffer: inout [UInt8]) {
        String(self).appendBulk(to: &buffer)
    }
}

/// Encodes commands in the Redis protocol ourselves: one buffer for a whole pipeline, handed to hiredis
/// in one call, instead of hiredis formatting (and copying) each argument vector.
enum RESP {
    static let crlf: [UInt8] = [13, 10]

    static func appendBulkHeader(_ length: Int, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "$"))
        appendDecimal(length, to: &buffer)
        buffer.append(contentsOf: crlf)
    }

    static func appendCommand(_ arguments: [any RedisArgument], to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "*"))
        appendDecimal(arguments.count, to: &buffer)
        buffer.append(contentsOf: crlf)
        for argument in arguments { argument.appendBulk(to: &buffer) }
    }

    /// Appends a non-negative length in decimal without allocating (this runs for every argument).
    static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            buffer.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Everything of `XADD stream [MAXLEN ~ n] * field <payload>` but the payload, with the array
    /// header counting the payload: encoded once per batch and reused for every event.
    static func xaddPrefix(stream: String, maxLength: Int?, field: String) -> [UInt8] {
        var arguments: [any RedisArgument] = ["XADD", stream]
        if let maxLength { arguments += ["MAXLEN", "~", maxLength] }
        arguments += ["*", field]
        var prefix: [UInt8] = [UInt8(ascii: "*")]
        appendDecimal(arguments.count + 1, to: &prefix)
        prefix.append(contentsOf: crlf)
        for argument in arguments { argument.appendBulk(to: &prefix) }
        return prefix
    }

    /// Queues one encoded command in hiredis' output buffer; false when hiredis refused it.
    static func append(_ arguments: [any RedisArgument], to context: UnsafeMutablePointer<redisContext>) -> Bool {
        var buffer: [UInt8] = []
        appendCommand(arguments, to: &buffer)
        return append(encoded: buffer, to: context)
    }

    /// Queues already-encoded commands (a whole pipeline) in hiredis' output buffer.
    static func append(encoded buffer: [UInt8], to context: UnsafeMutablePointer<redisContext>) -> Bool {
        buffer.withUnsafeBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                redisAppendFormattedCommand(context, $0, bytes.count) == REDIS_OK
            }
        }
    }

    /// The command's name, upper-cased, for error messages.
    static func name(of arguments: [any RedisArgument]) -> String {
        guard let first = arguments.first else { return "(empty)" }
        var encoded: [UInt8] = []
        first.appendBulk(to: &encoded)
        // Drop the "$n\r\n" header and the trailing CRLF.
        guard let headerEnd = encoded.firstIndex(of: 10) else { return "?" }
        return String(decoding: encoded[(headerEnd + 1)..<(encoded.count - 2)], as: UTF8.self).uppercased()
    }
}
