import Foundation

/// Human and machine output for cdbctl: aligned tables (coloured only on a terminal) and stable JSON.
public enum TableOutput {
    /// Renders rows under headers; the status column is coloured green/red/yellow when stdout is a TTY.
    public static func table(headers: [String], rows: [[String]], statusColumn: Int? = nil, colour: Bool = isatty(STDOUT_FILENO) == 1) -> String {
        let widths = headers.indices.map { column in
            ([headers[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func render(_ cells: [String], colourise: Bool) -> String {
            cells.enumerated().map { column, cell in
                let padded = column == cells.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                guard colourise, column == statusColumn else { return padded }
                return paint(padded, for: cell)
            }.joined(separator: "  ")
        }
        return ([render(headers, colourise: false)] + rows.map { render($0, colourise: colour) }).joined(separator: "\n")
    }

    /// Encodes `value` as pretty, key-sorted JSON (stable for scripts and diffs).
    public static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    private static func paint(_ text: String, for status: String) -> String {
        switch status.uppercased() {
        case "UP", "PASS", "OK", "GO": return "\u{1B}[32m\(text)\u{1B}[0m"
        case "DOWN", "FAIL", "NO-GO", "CRITICAL": return "\u{1B}[31m\(text)\u{1B}[0m"
        default: return "\u{1B}[33m\(text)\u{1B}[0m"
        }
    }
}
