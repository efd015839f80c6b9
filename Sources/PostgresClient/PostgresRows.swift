#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import PlainText

/// The rows of a query result, values in PostgreSQL's text format.
public struct PostgresRows: Sendable, RandomAccessCollection {
    public let columns: [String]
    let values: [[String?]]
    /// Rows changed by INSERT/UPDATE/DELETE/COPY (`PQcmdTuples`), 0 for others.
    public let affectedRows: Int

    public var startIndex: Int { 0 }
    public var endIndex: Int { values.count }

    public subscript(position: Int) -> PostgresRow {
        PostgresRow(columns: columns, values: values[position])
    }
}

/// One result row.
public struct PostgresRow: Sendable {
    public let columns: [String]
    public let values: [String?]

    /// The raw text of a column, `nil` for SQL NULL or an unknown column.
    public subscript(column: String) -> String? {
        columns.firstIndex(of: column).flatMap { values[$0] }
    }

    /// Reads a column as `type`; NULL decodes only into an Optional.
    public func decode<Value: PostgresDecodable>(_ column: String, as type: Value.Type = Value.self) throws(PostgresError) -> Value {
        guard let index = columns.firstIndex(of: column) else {
            throw .decoding(column: column, value: nil, expected: "a column of that name (have: \(columns.joined(separator: ", ")))")
        }
        return try decode(at: index, as: type)
    }

    /// Reads the column at `index` as `type`.
    public func decode<Value: PostgresDecodable>(at index: Int, as type: Value.Type = Value.self) throws(PostgresError) -> Value {
        guard let value = Value(postgresText: values[index]) else {
            throw .decoding(column: columns[index], value: values[index], expected: Value.postgresTypeName)
        }
        return value
    }
}

/// A Swift type that can be read from PostgreSQL's text format.
public protocol PostgresDecodable: Sendable {
    /// `nil` when the text does not fit; `text` is `nil` for SQL NULL.
    init?(postgresText text: String?)
    static var postgresTypeName: String { get }
}

/// A Swift type that can be sent as a query parameter, in text format.
public protocol PostgresEncodable: Sendable {
    var postgresText: String { get }
}

extension String: PostgresDecodable, PostgresEncodable {
    public init?(postgresText text: String?) {
        guard let text else { return nil }
        self = text
    }
    public static var postgresTypeName: String { "text" }
    public var postgresText: String { self }
}

extension Int: PostgresDecodable, PostgresEncodable {
    public init?(postgresText text: String?) {
        guard let text, let value = Int(text) else { return nil }
        self = value
    }
    public static var postgresTypeName: String { "an integer" }
    public var postgresText: String { String(self) }
}

extension Double: PostgresDecodable, PostgresEncodable {
    public init?(postgresText text: String?) {
        guard let text, let value = Double(text) else { return nil }
        self = value
    }
    public static var postgresTypeName: String { "a number" }
    // Shortest round-tripping representation: what goes in comes back bit for bit.
    public var postgresText: String { "\(self)" }
}

extension Bool: PostgresDecodable, PostgresEncodable {
    public init?(postgresText text: String?) {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
    public static var postgresTypeName: String { "a boolean" }
    public var postgresText: String { self ? "true" : "false" }
}

extension Date: PostgresDecodable, PostgresEncodable {
    /// Reads `timestamptz` text as the session (UTC) prints it: `2026-01-02 03:04:05.678+00`.
    public init?(postgresText text: String?) {
        guard let text, let date = PostgresTimestamp.parse(text) else { return nil }
        self = date
    }
    public static var postgresTypeName: String { "a timestamp" }
    public var postgresText: String { PostgresTimestamp.format(self) }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init?(postgresText text: String?) {
        guard let text else {
            self = .none
            return
        }
        guard let value = Wrapped(postgresText: text) else { return nil }
        self = .some(value)
    }
    public static var postgresTypeName: String { Wrapped.postgresTypeName + " or NULL" }
}

/// Timestamp text in and out, without DateFormatter (slow, and locale-dependent).
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        // Round to whole microseconds first, so .9999996 s carries into the next second.
        let totalMicros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let whole = Int(totalMicros >= 0 ? totalMicros / 1_000_000 : (totalMicros - 999_999) / 1_000_000)
        let micros = Int(totalMicros - Int64(whole) * 1_000_000)
        var time = time_t(whole)
        var parts = tm()
        gmtime_r(&time, &parts)
        let date = "\((parts.tm_year + 1900).zeroPadded(4))-\((parts.tm_mon + 1).zeroPadded(2))-\(parts.tm_mday.zeroPadded(2))"
        let clock = "\(parts.tm_hour.zeroPadded(2)):\(parts.tm_min.zeroPadded(2)):\(parts.tm_sec.zeroPadded(2)).\(micros.zeroPadded(6))"
        return date + " " + clock + "+00"
    }

    static func parse(_ text: String) -> Date? {
        // yyyy-mm-dd hh:mm:ss[.ffffff][+hh[:mm]]
        let bytes = Array(text.utf8)
        guard bytes.count >= 19 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard bytes[index] >= 48 && bytes[index] <= 57 else { return nil }
                value = value * 10 + Int(bytes[index] - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        var offsetSeconds = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard index + 3 <= bytes.count, let hours = number(index + 1..<index + 3) else { return nil }
            var minutes = 0
            if index + 6 <= bytes.count, bytes[index + 3] == UInt8(ascii: ":"), let value = number(index + 4..<index + 6) { minutes = value }
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let epoch = timegm(&parts)
        return Date(timeIntervalSince1970: Double(epoch - offsetSeconds) + fraction)
    }
}
