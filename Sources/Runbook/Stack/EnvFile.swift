import Foundation

/// A `.env` file read as data, by the rules docker compose v1.29 (python-dotenv) and v2 (compose-go) both apply.
///
/// The one reader of `.env` in the project: `cdbctl` uses it directly and the scripts get its values through
/// `cdbctl env export`, so bash, compose and cdbctl never disagree about a value and nothing in the file runs.
/// Accepted: blank lines, `#` comments, an optional `export `, `KEY=value` with white space around `=`, unquoted
/// values (an inline comment needs a space before `#`), single quotes (literal but for `\'`), double quotes (`\"`, `\\`),
/// `${NAME}` of a key set earlier in the file, LF or CRLF line ends, a UTF-8 byte-order mark. Anything the two
/// compose versions read differently (`$NAME` without braces, `\\` in single quotes, escapes other than
/// `\"` `\\`, multi-line values, text after a closing quote) is a located error rather than a guess.
public struct EnvFile: Sendable, Equatable {
    public var values: [String: String]
    /// The keys in the order the file sets them (a key set twice keeps its first place, its last value).
    public var keys: [String]

    public init(values: [String: String], keys: [String]) {
        self.values = values
        self.keys = keys
    }

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
        var body = Substring(text)
        if body.unicodeScalars.first == "\u{FEFF}" { body = Substring(body.unicodeScalars.dropFirst()) }
        var result = EnvFile(values: [:], keys: [])
        var errors: [ParseError] = []
        // Split on scalars: as Characters, "\r\n" is one grapheme and would never equal "\n".
        for (index, scalars) in body.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = String(String.UnicodeScalarView(scalars))
            if line.unicodeScalars.last == "\r" { line = String(String.UnicodeScalarView(line.unicodeScalars.dropLast())) }
            do {
                guard let (key, value) = try parseLine(line, earlier: result.values) else { continue }
                if result.values.updateValue(value, forKey: key) == nil { result.keys.append(key) }
            } catch {
                errors.append(ParseError(file: file, line: index + 1, message: error.message))
            }
        }
        guard errors.isEmpty else { throw EnvFileErrors(errors: errors) }
        return result
    }

    /// Reads and parses a file; a missing or unreadable file is an error naming the path.
    public static func load(path: String) throws(EnvFileErrors) -> EnvFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EnvFileErrors(errors: [ParseError(file: path, line: 0, message: "cannot read the file")])
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw EnvFileErrors(errors: [ParseError(file: path, line: 0, message: "not UTF-8 text (save it as UTF-8)")])
        }
        return try parse(text, file: path)
    }

    /// The file's values over the process environment's (the process environment wins, as with compose).
    public func merged(over environment: [String: String]) -> [String: String] {
        values.merging(environment) { _, process in process }
    }

    /// `NAME='value'` lines a POSIX shell reads back as exactly these values: the only form in which the
    /// scripts see settings (they never source `.env`). Single quotes keep `$`, backticks and spaces literal.
    public static func shellAssignments(_ pairs: [(name: String, value: String)]) -> String {
        pairs.map { "\($0.name)=\(shellQuoted($0.value))\n" }.joined()
    }

    static func shellQuoted(_ value: String) -> String {
        "'" + value.replacing("'", with: "'\\''") + "'"
    }

    // MARK: one line

    struct LineError: Error { var message: String }

    /// The key and value a line sets, nil for a blank or comment line.
    static func parseLine(_ line: String, earlier: [String: String]) throws(LineError) -> (String, String)? {
        var rest = Substring(line)
        rest = rest.drop { $0 == " " || $0 == "\t" }
        if rest.isEmpty || rest.first == "#" { return nil }
        if rest.hasPrefix("export "), rest.dropFirst(7).contains("=") { rest = rest.dropFirst(7).drop { $0 == " " || $0 == "\t" } }
        if rest.unicodeScalars.contains("\r") { throw LineError(message: "a carriage return inside the line (mixed line ends?)") }
        guard let equals = rest.firstIndex(of: "=") else {
            throw LineError(message: "expected KEY=value, got '\(rest.prefix(40))'")
        }
        let key = String(rest[..<equals].trimmingCharacters(in: .whitespaces))
        guard isVariableName(key) else {
            throw LineError(message: "'\(key)' is not a valid variable name (letters, digits and _, not starting with a digit)")
        }
        let afterEquals = rest[rest.index(after: equals)...]
        let raw = afterEquals.drop { $0 == " " || $0 == "\t" }
        // `KEY= #x`: python-dotenv keeps "#x" (it ate the blank with the `=`), compose-go reads a comment.
        if raw.first == "#", raw.startIndex > afterEquals.startIndex {
            throw LineError(message: "the value of \(key) starts with '#' after a blank: compose v1 reads it as the value, v2 as a comment; quote it or remove the blank")
        }
        return (key, try parseValue(raw, key: key, earlier: earlier))
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`: what both compose versions and a POSIX shell take as a variable name.
    public static func isVariableName(_ name: some StringProtocol) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    static func parseValue(_ raw: Substring, key: String, earlier: [String: String]) throws(LineError) -> String {
        switch raw.first {
        case "'":
            // Literal but for \' (both versions read a quote); \\ is one backslash to v1, two to v2.
            return try quoted(raw, key: key) { next throws(LineError) in
                switch next {
                case "'": return ("'", true)
                case "\\": throw LineError(message: "\\\\ in the single-quoted value of \(key): compose v1 reads one backslash, v2 two; write it once, or use double quotes")
                default: return ("\\", false)
                }
            }
        case "\"":
            let escaped = try quoted(raw, key: key) { next throws(LineError) in
                guard let next, next == "\"" || next == "\\" else {
                    throw LineError(message: "unsupported escape \\\(next.map(String.init) ?? "") in the value of \(key): only \\\" and \\\\ read the same in compose v1 and v2")
                }
                // Kept escaped until interpolation, so an escaped character is never taken for syntax.
                return ("\\\(next)", true)
            }
            return try interpolate(escaped, key: key, earlier: earlier)
        default:
            var value = raw
            if let comment = value.indices.first(where: { value[$0] == "#" && $0 > value.startIndex && [" ", "\t"].contains(value[value.index(before: $0)]) }) {
                // python-dotenv takes any blank before '#' for a comment, compose-go only a space.
                guard value[value.index(before: comment)] == " " else {
                    throw LineError(message: "a tab before '#' in the value of \(key): compose v1 reads a comment, v2 part of the value; use a space, or quote the value")
                }
                value = value[..<comment]
            }
            let trimmed = String(value.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
            return try interpolate(trimmed.replacing("\\", with: "\\\\"), key: key, earlier: earlier)
        }
    }

    /// The text between `raw`'s opening quote and its closing one; `escape` decides what a backslash followed by
    /// a character (nil at the end of the line) stands for, and whether that character is used up with it.
    static func quoted(_ raw: Substring, key: String,
                       escape: (Character?) throws(LineError) -> (text: String, consumesNext: Bool)) throws(LineError) -> String {
        let quote = raw[raw.startIndex]
        var value = ""
        var index = raw.index(after: raw.startIndex)
        while index < raw.endIndex {
            let character = raw[index]
            let next = raw.index(after: index)
            if character == quote {
                try checkTrailing(raw[next...], key: key)
                return value
            }
            guard character == "\\" else { value.append(character); index = next; continue }
            let (text, consumesNext) = try escape(next < raw.endIndex ? raw[next] : nil)
            value += text
            index = consumesNext ? raw.index(after: next) : next
        }
        throw LineError(message: "unterminated \(quote) quote in the value of \(key) (values span one line)")
    }

    /// After a closing quote only white space and a comment may follow.
    static func checkTrailing(_ rest: Substring, key: String) throws(LineError) {
        let tail = rest.drop { $0 == " " || $0 == "\t" }
        guard tail.isEmpty || (tail.first == "#" && tail.startIndex > rest.startIndex) else {
            throw LineError(message: "unexpected text after the closing quote in the value of \(key): '\(tail.prefix(20))'")
        }
    }

    /// Resolves `${NAME}` (a key set earlier in this file) and removes the escapes `\\` `\"`; single pass, so a
    /// substituted value is never expanded again. A bare `$` is refused: v1 keeps `$NAME` literal, v2 expands it.
    static func interpolate(_ escaped: String, key: String, earlier: [String: String]) throws(LineError) -> String {
        var output = ""
        var index = escaped.startIndex
        while index < escaped.endIndex {
            let character = escaped[index]
            if character == "\\" {
                let next = escaped.index(after: index)
                output.append(escaped[next])
                index = escaped.index(after: next)
                continue
            }
            guard character == "$" else { output.append(character); index = escaped.index(after: index); continue }
            let afterDollar = escaped[escaped.index(after: index)...]
            guard afterDollar.first == "{", let close = afterDollar.firstIndex(of: "}") else {
                throw LineError(message: "'$' in the value of \(key): compose v1 and v2 read it differently; write ${NAME} for a variable set earlier in this file, or put the value in single quotes to keep the $")
            }
            let name = afterDollar[afterDollar.index(after: afterDollar.startIndex)..<close]
            guard isVariableName(name) else {
                throw LineError(message: "'${\(name)}' in the value of \(key): only ${NAME} is read the same by compose v1 and v2")
            }
            guard let value = earlier[String(name)] else {
                throw LineError(message: "${\(name)} in the value of \(key) is not set earlier in this file")
            }
            output += value
            index = escaped.index(after: close)
        }
        return output
    }
}

/// Every problem found in a `.env` file.
public struct EnvFileErrors: Error, CustomStringConvertible, Equatable {
    public var errors: [EnvFile.ParseError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
