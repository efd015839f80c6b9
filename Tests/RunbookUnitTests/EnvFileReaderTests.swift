import Foundation
import Runbook
import Testing

/// The `.env` reader against a corpus of every line form, in every encoding an operator's editor produces.
@Suite(".env files read as data, the way compose v1.29 and v2 both read them")
struct EnvFileReaderTests {
    /// Every accepted line form with the value both compose versions give it.
    static let accepted: [(line: String, key: String, value: String)] = [
        ("PLAIN=value", "PLAIN", "value"),
        ("  INDENTED=1", "INDENTED", "1"),
        ("SPACED = around", "SPACED", "around"),
        ("export EXPORTED=yes", "EXPORTED", "yes"),
        ("EMPTY=", "EMPTY", ""),
        ("WITH_SPACES=two words here", "WITH_SPACES", "two words here"),
        ("TRAILING=value   ", "TRAILING", "value"),
        ("COMMENTED=0.10   # ten percent", "COMMENTED", "0.10"),
        ("HASH_INSIDE=pass#word", "HASH_INSIDE", "pass#word"),
        ("SINGLE='single # quoted $(touch x) `id` $HOME'", "SINGLE", "single # quoted $(touch x) `id` $HOME"),
        ("DOUBLE=\"double # quoted\"  # comment", "DOUBLE", "double # quoted"),
        ("ESCAPES=\"a \\\"quote\\\" and a \\\\ backslash\"", "ESCAPES", "a \"quote\" and a \\ backslash"),
        ("BACKSLASH=C:\\path\\to", "BACKSLASH", "C:\\path\\to"),
        ("SPACE_PASSWORD=\"p4ss w0rd with spaces\"", "SPACE_PASSWORD", "p4ss w0rd with spaces"),
        ("QUOTE_IN_UNQUOTED=it's", "QUOTE_IN_UNQUOTED", "it's"),
        ("UNICODE=grüße", "UNICODE", "grüße"),
        ("WINDOWS_PATH='C:\\Users\\op'", "WINDOWS_PATH", "C:\\Users\\op"),
        ("SQ_ESCAPED_QUOTE='it\\'s'", "SQ_ESCAPED_QUOTE", "it's"),
        ("_UNDERSCORE1=x", "_UNDERSCORE1", "x"),
    ]

    /// Lines the two compose versions read differently, or not at all: each a located error, never a guess.
    static let refused: [(line: String, message: String)] = [
        ("NO_EQUALS_SIGN", "expected KEY=value, got 'NO_EQUALS_SIGN'"),
        ("9BAD=2", "'9BAD' is not a valid variable name"),
        ("BAD-NAME=2", "'BAD-NAME' is not a valid variable name"),
        ("OPEN=\"open", "unterminated \" quote in the value of OPEN"),
        ("OPEN1='open", "unterminated ' quote in the value of OPEN1"),
        ("DOLLAR=$(touch marker)", "'$' in the value of DOLLAR"),
        ("BARE=$HOME", "'$' in the value of BARE"),
        ("INDOUBLE=\"cost $5\"", "'$' in the value of INDOUBLE"),
        ("UNSET=${NOT_IN_FILE}", "${NOT_IN_FILE} in the value of UNSET is not set earlier in this file"),
        ("DEFAULTED=${A:-b}", "'${A:-b}' in the value of DEFAULTED"),
        ("ESCAPE=\"tab\\t\"", "unsupported escape \\t in the value of ESCAPE"),
        ("SQ_BACKSLASHES='a\\\\b'", "\\\\ in the single-quoted value of SQ_BACKSLASHES"),
        ("TAB_COMMENT=value\t# comment", "a tab before '#' in the value of TAB_COMMENT"),
        ("AFTER=\"x\"y", "unexpected text after the closing quote in the value of AFTER"),
        ("LEADING_HASH= #x", "the value of LEADING_HASH starts with '#' after a blank"),
    ]

    static var corpus: String {
        "# Claire de Binare settings\n\n" + accepted.map(\.line).joined(separator: "\n") + "\n"
    }

    static func expectAccepted(_ file: EnvFile) {
        for entry in accepted { #expect(file.values[entry.key] == entry.value, "\(entry.line)") }
        #expect(file.values.count == accepted.count)
        #expect(file.keys == accepted.map(\.key))
    }

    @Test("every accepted line form, with LF, CRLF, a BOM and both", arguments: [
        ("LF", "\n", ""), ("CRLF", "\r\n", ""), ("LF+BOM", "\n", "\u{FEFF}"), ("CRLF+BOM", "\r\n", "\u{FEFF}"),
    ])
    func acceptedForms(encoding: (name: String, newline: String, bom: String)) throws {
        let text = encoding.bom + Self.corpus.replacing("\n", with: encoding.newline)
        Self.expectAccepted(try EnvFile.parse(text, file: ".env"))
    }

    @Test("a Windows-edited file (CRLF, BOM) read from disk has every value, not silently none")
    func windowsFileOnDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cdb-env-\(UUID().uuidString).env").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = Data([0xEF, 0xBB, 0xBF]) + Data(Self.corpus.replacing("\n", with: "\r\n").utf8)
        try bytes.write(to: URL(fileURLWithPath: path))
        Self.expectAccepted(try EnvFile.load(path: path))
    }

    @Test("each refused form is a located error naming its line, in LF and CRLF", arguments: ["\n", "\r\n"])
    func refusedForms(newline: String) {
        let text = "GOOD=1" + newline + Self.refused.map(\.line).joined(separator: newline) + newline
        let error = #expect(throws: EnvFileErrors.self) { try EnvFile.parse(text, file: "settings/.env") }
        let errors = error?.errors ?? []
        #expect(errors.count == Self.refused.count)
        for (offset, entry) in Self.refused.enumerated() {
            let found = errors.first { $0.line == offset + 2 }
            #expect(found?.description.hasPrefix("settings/.env:\(offset + 2): ") == true, "\(entry.line)")
            #expect(found?.message.contains(entry.message) == true, "\(entry.line): \(found?.message ?? "no error")")
        }
    }

    @Test("${NAME} takes a value set earlier, once: a substituted value is never expanded again")
    func interpolation() throws {
        let file = try EnvFile.parse("HOST=db\nLITERAL='${HOST}'\nURL=postgres://${HOST}:5432\nNESTED=\"${LITERAL}\"\n", file: ".env")
        #expect(file.values["URL"] == "postgres://db:5432")
        #expect(file.values["LITERAL"] == "${HOST}")
        #expect(file.values["NESTED"] == "${HOST}")
    }

    @Test("a key set twice keeps its last value and its first place; the process environment wins when merged")
    func repeatedKeysAndMerge() throws {
        let file = try EnvFile.parse("A=1\nB=2\nA=3\n", file: ".env")
        #expect(file.values == ["A": "3", "B": "2"])
        #expect(file.keys == ["A", "B"])
        #expect(file.merged(over: ["B": "process"]) == ["A": "3", "B": "process"])
    }

    @Test("a file that is not UTF-8 or cannot be read is named, not read as empty")
    func unreadableFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cdb-env-\(UUID().uuidString).env").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data([0x41, 0x3D, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: path))
        let latin = #expect(throws: EnvFileErrors.self) { try EnvFile.load(path: path) }
        #expect(latin?.description == "\(path): not UTF-8 text (save it as UTF-8)")
        let missing = #expect(throws: EnvFileErrors.self) { try EnvFile.load(path: path + ".missing") }
        #expect(missing?.description == "\(path).missing: cannot read the file")
    }

    @Test("shell assignments give a POSIX shell exactly the values, with nothing run")
    func shellAssignmentsRoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdb-env-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let marker = directory.appendingPathComponent("marker").path
        let hostile: [(name: String, value: String)] = [
            ("COMMAND", "$(touch \(marker))"), ("BACKTICKS", "`touch \(marker)`"), ("QUOTES", "it's \"quoted\" ''"),
            ("SPACES", "  two  spaces  "), ("SEMICOLON", "a; touch \(marker)"), ("NEWLINE", "line one\nline two"),
            ("EMPTY", ""), ("GLOB", "*"),
        ]
        let script = EnvFile.shellAssignments(hostile) + hostile.map { "printf '%s\\0' \"$\($0.name)\"" }.joined(separator: "\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let values = String(decoding: data, as: UTF8.self).split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(values == hostile.map(\.value))
        #expect(!FileManager.default.fileExists(atPath: marker), "a value was executed")
    }
}
