#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A hand-written JSON codec for `MarketTick`, the one event every tick puts on the bus and three
/// services decode again (cdb_core, cdb_risk, cdb_execution).
///
/// Codable through `JSONEncoder`/`JSONDecoder` cost most of a tick's CPU time in a full-speed replay on
/// two cores. This codec writes the same bytes as `EventCoding.encoder` and reads the flat object it
/// writes; whatever it does not recognise (an escaped string, a nested value, a missing or odd field)
/// goes to `EventCoding.decoder`, so errors and unusual input behave exactly as before.
extension MarketTick {
    /// The tick as bus JSON: the bytes `EventCoding.encoder` writes (sorted keys, microsecond timestamp).
    public func busJSON() -> String {
        // JSONEncoder refuses non-finite numbers; keep its behaviour for such a tick.
        guard price.isFinite, quantity.isFinite else {
            return String(decoding: (try? EventCoding.encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(ascii: "{")
        if let aggressorSide {
            out.appendMember("aggressor_side", first: true)
            out.appendJSONString(aggressorSide.rawValue)
        }
        out.appendMember("event_time", first: aggressorSide == nil)
        out.appendJSONString(EventCoding.timestamp(eventTime))
        out.appendMember("id")
        out.appendJSONString(id)
        out.appendMember("origin_tick_id")
        out.appendJSONString(originTickId)
        out.appendMember("price")
        out.appendJSONNumber(price)
        out.appendMember("quantity")
        out.appendJSONNumber(quantity)
        out.appendMember("schema_version")
        out.append(contentsOf: String(schemaVersion).utf8)
        out.appendMember("source")
        out.appendJSONString(source.rawValue)
        out.appendMember("symbol")
        out.appendJSONString(symbol)
        out.append(ascii: "}")
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes bus JSON; throws `EventCoding.decoder`'s error for anything that is not a valid tick.
    public static func fromBusJSON(_ bytes: [UInt8]) throws -> MarketTick {
        if let tick = bytes.withUnsafeBufferPointer({ scan($0) }) { return tick }
        return try EventCoding.decoder.decode(MarketTick.self, from: Data(bytes))
    }

    /// The plain flat object `busJSON()` writes, in any key order; nil for anything else.
    private static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> MarketTick? {
        var reader = FlatJSONReader(bytes)
        var id: String?, symbol: String?, originTickId: String?
        var price: Double?, quantity: Double?, schemaVersion: Int?
        var aggressorSide: OrderSide?, eventTime: Date?, source: TickSource?
        guard reader.skip("{") else { return nil }
        if reader.skip("}") { return nil }
        repeat {
            guard let key = reader.plainString(), reader.skip(":") else { return nil }
            switch key {
            case "id": guard let value = reader.plainString() else { return nil }; id = value
            case "symbol": guard let value = reader.plainString() else { return nil }; symbol = value
            case "origin_tick_id": guard let value = reader.plainString() else { return nil }; originTickId = value
            case "price": guard let value = reader.number() else { return nil }; price = value
            case "quantity": guard let value = reader.number() else { return nil }; quantity = value
            case "schema_version":
                guard let value = reader.number(), let whole = Int(exactly: value) else { return nil }
                schemaVersion = whole
            case "aggressor_side":
                if reader.skipNull() { aggressorSide = nil; break }
                guard let value = reader.plainString().flatMap(OrderSide.init(rawValue:)) else { return nil }
                aggressorSide = value
            case "event_time":
                guard let value = reader.plainString().flatMap(EventCoding.parseTimestamp) else { return nil }
                eventTime = value
            case "source":
                guard let value = reader.plainString().flatMap(TickSource.init(rawValue:)) else { return nil }
                source = value
            default:
                // Unknown keys are ignored (as JSONDecoder does) if they hold a plain scalar.
                guard reader.skipScalar() else { return nil }
            }
        } while reader.skip(",")
        guard reader.skip("}"), reader.isAtEnd,
              let id, let symbol, let originTickId, let price, let quantity, let schemaVersion, let eventTime, let source
        else { return nil }
        return MarketTick(
            id: id, schemaVersion: schemaVersion, symbol: symbol, price: price, quantity: quantity,
            aggressorSide: aggressorSide, eventTime: eventTime, source: source, originTickId: originTickId)
    }
}

/// A cursor over one flat JSON object: strings without escapes, numbers, null.
private struct FlatJSONReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var isAtEnd: Bool {
        mutating get {
            skipWhitespace()
            return index == bytes.count
        }
    }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    /// A string without escapes or control characters; nil (cursor unspecified) for anything else.
    mutating func plainString() -> String? {
        guard skip("\"") else { return nil }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            index += 1
        }
        return nil
    }

    /// A JSON number (strict grammar), as a finite Double.
    mutating func number() -> Double? {
        skipWhitespace()
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digits(leadingZeroAlone: true) else { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(leadingZeroAlone: false) else { return nil }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits(leadingZeroAlone: false) else { return nil }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    mutating func skipNull() -> Bool {
        skipWhitespace()
        guard bytes.count - index >= 4, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
              bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
        else { return false }
        index += 4
        return true
    }

    /// Skips a plain string, a number or null.
    mutating func skipScalar() -> Bool {
        skipWhitespace()
        guard index < bytes.count else { return false }
        if bytes[index] == UInt8(ascii: "\"") { return plainString() != nil }
        return skipNull() || number() != nil
    }

    /// One or more digits; with `leadingZeroAlone`, a leading 0 must stand alone (JSON's integer part).
    private mutating func digits(leadingZeroAlone: Bool) -> Bool {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        guard index > start else { return false }
        return !leadingZeroAlone || bytes[start] != UInt8(ascii: "0") || index == start + 1
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }
}

extension [UInt8] {
    fileprivate mutating func append(ascii character: Unicode.Scalar) {
        append(UInt8(ascii: character))
    }

    /// `"key":`, preceded by a comma unless it is the object's first member.
    fileprivate mutating func appendMember(_ key: StaticString, first: Bool = false) {
        if !first { append(ascii: ",") }
        append(ascii: "\"")
        key.withUTF8Buffer { append(contentsOf: $0) }
        append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    /// A JSON string, escaped as JSONEncoder escapes it (including `/` as `\/`).
    fileprivate mutating func appendJSONString(_ text: String) {
        append(ascii: "\"")
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): append(contentsOf: [0x5C, 0x5C])
            case UInt8(ascii: "/"): append(contentsOf: [0x5C, 0x2F])
            case 0x08: append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0A: append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                append(contentsOf: Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: append(byte)
            }
        }
        append(ascii: "\"")
    }

    /// A finite Double as JSONEncoder writes it: the shortest round-trip form, without a trailing `.0`.
    fileprivate mutating func appendJSONNumber(_ value: Double) {
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        append(contentsOf: text.utf8)
    }
}
