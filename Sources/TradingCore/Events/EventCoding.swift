#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Shared JSON coding for every stream message: ISO-8601 UTC timestamps with microseconds
/// (`2026-01-01T00:00:00.000000Z`) and sorted keys.
///
/// Snake-case keys are declared on each type's `CodingKeys`, so plain `JSONEncoder`s produce the
/// same key names; this encoder/decoder only adds the timestamp format.
public enum EventCoding {
    /// The encoder writing dates as microsecond ISO-8601 UTC strings and keys in sorted order.
    ///
    /// One shared instance (never change its options): building a coder per event cost about as much
    /// as decoding the event itself, and Foundation's coders are Sendable and safe to share across threads.
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        // Sorted keys make equal events byte-identical, which keeps stream payloads diffable.
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// The shared decoder (see `encoder`) accepting the timestamps described at `parseTimestamp(_:)`.
    public static let decoder = makeDecoder()

    /// A decoder like `decoder` carrying `userInfo` (a saved risk account's policy, say).
    public static func makeDecoder(userInfo: [CodingUserInfoKey: any Sendable] = [:]) -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.userInfo = userInfo
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "Expected an ISO-8601 timestamp, got \"\(text)\""
                )
            }
            return date
        }
        return decoder
    }

    /// Formats `date` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds).
    public static func timestamp(_ date: Date) -> String {
        // Counting from the reference date keeps the microsecond rounding exact for any date
        // built as `Date(timeIntervalSinceReferenceDate:)` with whole microseconds.
        let referenceMicros = Int64((date.timeIntervalSinceReferenceDate * 1_000_000).rounded())
        let unixMicros = referenceMicros + UTCCalendar.unixToReferenceSeconds * 1_000_000
        let (unixSeconds, micros) = floorDivision(unixMicros, 1_000_000)
        let (dayNumber, secondOfDay) = floorDivision(unixSeconds, UTCCalendar.secondsPerDay)
        let time = [secondOfDay / 3_600, secondOfDay / 60 % 60, secondOfDay % 60]
            .map { UTCCalendar.pad($0, 2) }
            .joined(separator: ":")
        return "\(UTCCalendar.dateString(ofDay: dayNumber))T\(time).\(UTCCalendar.pad(micros, 6))Z"
    }

    /// Parses `YYYY-MM-DD[T| ]HH:MM:SS[.fraction][Z|±HH:MM|±HHMM]`.
    ///
    /// Fractions beyond microseconds are truncated; a missing zone means UTC, which also accepts
    /// the replay CSV's `2021-12-31 23:01:00.000000`. Returns nil for anything else.
    public static func parseTimestamp(_ text: String) -> Date? {
        var scanner = TimestampScanner(text)
        guard let year = scanner.number(digits: 4), scanner.skip("-"),
              let month = scanner.number(digits: 2), scanner.skip("-"),
              let day = scanner.number(digits: 2), scanner.skip("T") || scanner.skip("t") || scanner.skip(" "),
              let hour = scanner.number(digits: 2), scanner.skip(":"),
              let minute = scanner.number(digits: 2), scanner.skip(":"),
              let second = scanner.number(digits: 2),
              let micros = scanner.fractionMicros(),
              let offsetSeconds = scanner.zoneOffsetSeconds(),
              scanner.isAtEnd,
              (1...12).contains(month),
              (1...UTCCalendar.daysInMonth(year: year, month: month)).contains(day),
              hour < 24, minute < 60, second < 60
        else { return nil }
        let dayNumber = UTCCalendar.dayNumber(year: year, month: month, day: day)
        let unixSeconds = dayNumber * UTCCalendar.secondsPerDay + hour * 3_600 + minute * 60 + second - offsetSeconds
        let referenceMicros = (unixSeconds - UTCCalendar.unixToReferenceSeconds) * 1_000_000 + micros
        return Date(timeIntervalSinceReferenceDate: Double(referenceMicros) / 1_000_000)
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }
}

/// Cursor over a timestamp's ASCII bytes.
private struct TimestampScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    var isAtEnd: Bool { index == bytes.count }

    mutating func skip(_ character: Character) -> Bool {
        guard index < bytes.count, let ascii = character.asciiValue, bytes[index] == ascii else { return false }
        index += 1
        return true
    }

    mutating func number(digits: Int) -> Int64? {
        guard index + digits <= bytes.count else { return nil }
        var value: Int64 = 0
        for _ in 0..<digits {
            guard let digit = digit(at: index) else { return nil }
            value = value * 10 + digit
            index += 1
        }
        return value
    }

    /// Microseconds of an optional `.fraction`; nil only when a dot has no digits after it.
    mutating func fractionMicros() -> Int64? {
        guard skip(".") else { return 0 }
        var micros: Int64 = 0
        var count = 0
        while index < bytes.count, let digit = digit(at: index) {
            if count < 6 { micros = micros * 10 + digit }
            count += 1
            index += 1
        }
        guard count > 0 else { return nil }
        for _ in count..<max(count, 6) { micros *= 10 }
        return micros
    }

    /// Offset east of UTC in seconds; nil when a zone designator is malformed.
    mutating func zoneOffsetSeconds() -> Int64? {
        if isAtEnd || skip("Z") || skip("z") { return 0 }
        let sign: Int64
        if skip("+") {
            sign = 1
        } else if skip("-") {
            sign = -1
        } else {
            return nil
        }
        guard let hours = number(digits: 2) else { return nil }
        _ = skip(":")
        guard let minutes = number(digits: 2), hours < 24, minutes < 60 else { return nil }
        return sign * (hours * 3_600 + minutes * 60)
    }

    private func digit(at position: Int) -> Int64? {
        let byte = bytes[position]
        return (48...57).contains(byte) ? Int64(byte - 48) : nil
    }
}
