import Foundation

/// A `.env` file as docker compose reads it: `KEY=value` lines, `#` comments, optional quotes.
public struct EnvFile: Sendable, Equatable {
    public var values: [String: String]

    /// A problem in a `.env` file, located: `.env:3: …`.
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var file: String
        public var line: Int
        public var message: String
        /// `file:line: message`, or `file: message` for a problem with the file as a whole.
        public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
    }

    /// Parses `text`; every malformed line is reported, not just the first.
    public static func parse(_ text: String, file: String) throws(EnvFileErrors) -> EnvFile {
        var values: [String: String] = [:]
        var errors: [ParseError] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst("export ".count)) }
            guard let equals = line.firstIndex(of: "=") else {
                errors.append(ParseError(file: file, line: index + 1, message: "expected KEY=value, got '\(line)'"))
                continue
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard let first = key.first, first.isLetter || first == "_", key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                errors.append(ParseError(file: file, line: index + 1, message: "'\(key)' is not a valid variable name"))
                continue
            }
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if let quote = value.first, quote == "\"" || quote == "'" {
                guard value.count >= 2, value.last == quote else {
                    errors.append(ParseError(file: file, line: index + 1, message: "unterminated \(quote) quote in the value of \(key)"))
                    continue
                }
                value = String(value.dropFirst().dropLast())
            } else if let comment = value.range(of: " #") {
                value = value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            values[key] = value
        }
        guard errors.isEmpty else { throw EnvFileErrors(errors: errors) }
        return EnvFile(values: values)
    }

    /// Reads and parses a file; a missing file is an error naming the path.
    public static func load(path: String) throws -> EnvFile {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw EnvFileErrors(errors: [ParseError(file: path, line: 0, message: "cannot read the file")])
        }
        return try parse(text, file: path)
    }

    /// The file's values over the process environment's (the process environment wins, as with compose).
    public func merged(over environment: [String: String]) -> [String: String] {
        values.merging(environment) { _, process in process }
    }
}

/// Every problem found in a `.env` file.
public struct EnvFileErrors: Error, CustomStringConvertible, Equatable {
    public var errors: [EnvFile.ParseError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
