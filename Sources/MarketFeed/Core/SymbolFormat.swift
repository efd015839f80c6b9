/// The trading-pair spelling every feed accepts: MEXC's, upper-case letters and digits without
/// a separator, 2 to 20 characters (`BTCUSDT`, `ETHUSDT`, `MXBTC`).
enum SymbolFormat {
    static func isValid(_ symbol: String) -> Bool {
        (2...20).contains(symbol.utf8.count)
            && symbol.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// One problem line per invalid, duplicated or missing symbol.
    static func problems(in symbols: [String], field: String = "symbols") -> [String] {
        var problems: [String] = []
        if symbols.isEmpty { problems.append("\(field) must name at least one symbol") }
        for symbol in symbols where !isValid(symbol) {
            problems.append("\(field): '\(symbol)' is not a symbol like BTCUSDT (A-Z and 0-9, 2 to 20 characters)")
        }
        var seen = Set<String>()
        for symbol in symbols where !seen.insert(symbol).inserted {
            problems.append("\(field): '\(symbol)' is listed twice")
        }
        return problems
    }
}
