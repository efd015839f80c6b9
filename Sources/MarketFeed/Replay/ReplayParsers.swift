#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlainText
import TradingCore

/// What is wrong with one line; the replay adds the file and line number.
struct LineProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// One tick's worth of data read from a file.
struct ReplayRecord {
    var symbol: String
    var price: Double
    var quantity: Double
    var eventTime: Date
    var aggressorSide: OrderSide?
}

private let comma = UInt8(ascii: ",")
private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")

extension UnsafeBufferPointer<UInt8> {
    /// The bytes without leading and trailing spaces and tabs.
    func trimmed() -> UnsafeBufferPointer<UInt8> {
        var lower = startIndex
        var upper = endIndex
        while lower < upper, self[lower] == space || self[lower] == tab { lower += 1 }
        while upper > lower, self[upper - 1] == space || self[upper - 1] == tab { upper -= 1 }
        return UnsafeBufferPointer(rebasing: self[lower..<upper])
    }

    var isBlank: Bool { trimmed().isEmpty }

    var text: String { String(decoding: self, as: UTF8.self) }
}

/// Turns the bars of an OHLCV CSV file (`timestamp,open,high,low,close,volume`) into records at
/// the bar's close.
///
/// Columns are found by the header's names, so their order does not matter; every price and
/// volume column must hold a number (a corrupt `open` makes the whole bar suspect), extra
/// columns are ignored.
struct CSVBarParser {
    private enum Role {
        case timestamp
        case number(name: String, use: Use)
        case ignored
    }

    private enum Use {
        case close
        case volume
        case check
    }

    private let roles: [Role]
    private let symbol: String

    /// Reads the header; throws when it lacks `timestamp`, `close` or `volume`.
    init(header: UnsafeBufferPointer<UInt8>, symbol: String) throws(LineProblem) {
        let names = header.text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingWhitespace().lowercased() }
        let roles: [Role] = names.map { name in
            switch name {
            case "timestamp", "time": .timestamp
            case "close": .number(name: name, use: .close)
            case "volume": .number(name: name, use: .volume)
            case "open", "high", "low": .number(name: name, use: .check)
            default: .ignored
            }
        }
        let missing = ["timestamp", "close", "volume"].filter { required in
            !names.contains(required) && !(required == "timestamp" && names.contains("time"))
        }
        guard missing.isEmpty else {
            throw LineProblem(
                "expected a header naming the columns timestamp,open,high,low,close,volume; "
                    + "got '\(header.text)' (missing: \(missing.joined(separator: ", ")))"
            )
        }
        self.roles = roles
        self.symbol = symbol
    }

    /// The bar on `line` as a record at its close price with the bar's volume.
    func parse(_ line: UnsafeBufferPointer<UInt8>) throws(LineProblem) -> ReplayRecord {
        var columns = 1
        for byte in line where byte == comma { columns += 1 }
        guard columns == roles.count else {
            throw LineProblem("expected \(roles.count) columns, got \(columns)")
        }
        var eventTime: Date?
        var close = 0.0
        var volume = 0.0
        var fieldStart = line.startIndex
        var column = 0
        for index in line.startIndex...line.endIndex where index == line.endIndex || line[index] == comma {
            let field = UnsafeBufferPointer(rebasing: line[fieldStart..<index]).trimmed()
            switch roles[column] {
            case .timestamp:
                let text = field.text
                guard let date = EventCoding.parseTimestamp(text) else {
                    throw LineProblem("timestamp '\(text)' is not a time like 2022-01-31 23:59:00.000000 (UTC)")
                }
                eventTime = date
            case .number(let name, let use):
                guard let value = Double(field.text), value.isFinite else {
                    throw LineProblem("\(name) '\(field.text)' is not a number")
                }
                switch use {
                case .close:
                    guard value > 0 else { throw LineProblem("close '\(field.text)' is not a positive price") }
                    close = value
                case .volume:
                    guard value >= 0 else { throw LineProblem("volume '\(field.text)' is negative") }
                    volume = value
                case .check:
                    break
                }
            case .ignored:
                break
            }
            column += 1
            fieldStart = index + 1
        }
        // The header guarantees a timestamp column, so eventTime is set here.
        return ReplayRecord(symbol: symbol, price: close, quantity: volume, eventTime: eventTime ?? .distantPast)
    }
}

/// Turns JSON Lines of trades into records:
/// `{"symbol":"BTCUSDT","price":"46377.5","quantity":0.01,"time":1640991660000,"side":"buy"}`.
///
/// `price` and `quantity` may be numbers or numeric strings (MEXC writes strings); `time` is
/// epoch milliseconds (number or digit string) or an ISO-8601 time; `symbol` defaults to the
/// configured one; `side` (`buy`/`sell`, the aggressor) is optional.
struct JSONLTradeParser {
    private let defaultSymbol: String
    private let decoder = JSONDecoder()

    init(defaultSymbol: String) {
        self.defaultSymbol = defaultSymbol
    }

    func parse(_ line: UnsafeBufferPointer<UInt8>) throws(LineProblem) -> ReplayRecord {
        let trade: TradeLine
        do {
            trade = try decoder.decode(TradeLine.self, from: Data(buffer: line))
        } catch let problem as LineProblem {
            throw problem
        } catch DecodingError.keyNotFound(let key, _) {
            throw LineProblem("missing field '\(key.stringValue)'")
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw LineProblem("expected a JSON object like {\"symbol\":…,\"price\":…,\"quantity\":…,\"time\":…}")
        } catch DecodingError.typeMismatch(_, let context) {
            throw LineProblem("field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch DecodingError.dataCorrupted {
            throw LineProblem("not valid JSON: '\(line.text.prefix(80))'")
        } catch {
            throw LineProblem("cannot decode: \(error)")
        }
        let symbol = trade.symbol ?? defaultSymbol
        guard SymbolFormat.isValid(symbol) else {
            throw LineProblem("symbol '\(symbol)' is not a symbol like BTCUSDT")
        }
        return ReplayRecord(
            symbol: symbol,
            price: trade.price,
            quantity: trade.quantity,
            eventTime: trade.time,
            aggressorSide: trade.side
        )
    }
}

private struct TradeLine: Decodable {
    let symbol: String?
    let price: Double
    let quantity: Double
    let time: Date
    let side: OrderSide?

    private enum Keys: String, CodingKey {
        case symbol, price, quantity, time, side
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        symbol = try container.decodeIfPresent(String.self, forKey: .symbol)
        price = try Self.number(container, .price)
        guard price > 0 else { throw LineProblem("price '\(price)' is not a positive price") }
        quantity = try Self.number(container, .quantity)
        guard quantity >= 0 else { throw LineProblem("quantity '\(quantity)' is negative") }
        time = try Self.time(container)
        if let side = try container.decodeIfPresent(String.self, forKey: .side) {
            guard let parsed = OrderSide(rawValue: side.uppercased()) else {
                throw LineProblem("side '\(side)' is neither buy nor sell")
            }
            self.side = parsed
        } else {
            self.side = nil
        }
    }

    private static func number(_ container: KeyedDecodingContainer<Keys>, _ key: Keys) throws -> Double {
        guard container.contains(key) else { throw LineProblem("missing field '\(key.rawValue)'") }
        if let value = try? container.decode(Double.self, forKey: key), value.isFinite {
            return value
        }
        if let text = try? container.decode(String.self, forKey: key) {
            guard let value = Double(text.trimmingWhitespace()), value.isFinite else {
                throw LineProblem("\(key.rawValue) '\(text)' is not a number")
            }
            return value
        }
        throw LineProblem("\(key.rawValue) is neither a number nor a numeric string")
    }

    private static func time(_ container: KeyedDecodingContainer<Keys>) throws -> Date {
        guard container.contains(.time) else { throw LineProblem("missing field 'time'") }
        if let milliseconds = try? container.decode(Double.self, forKey: .time), milliseconds.isFinite {
            return Date(timeIntervalSince1970: milliseconds / 1_000)
        }
        if let text = try? container.decode(String.self, forKey: .time) {
            if let milliseconds = Double(text), milliseconds.isFinite, text.utf8.allSatisfy({ $0 != UInt8(ascii: "-") }) {
                return Date(timeIntervalSince1970: milliseconds / 1_000)
            }
            if let date = EventCoding.parseTimestamp(text) {
                return date
            }
            throw LineProblem("time '\(text)' is neither ISO-8601 (2022-01-01T00:00:00Z) nor epoch milliseconds")
        }
        throw LineProblem("time is neither a number (epoch milliseconds) nor a string")
    }
}
