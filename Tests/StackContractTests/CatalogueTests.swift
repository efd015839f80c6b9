import Foundation
import StackContract
import Testing
import YAMLParser

/// The repository's root, where `.env.example`, `checks/` and `services/` are.
private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func read(_ path: String) throws -> String {
    try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
}

/// `lo-hi` pairs written in `text` (`0.01-1`, `1-65535`), as numbers.
private func ranges(in text: String) -> [(Double, Double)] {
    text.matches(of: /(?:^|[^\w.])(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)(?![\w.])/).compactMap { match in
        guard let low = Double(match.output.1), let high = Double(match.output.2) else { return nil }
        return (low, high)
    }
}

/// A bound as the files write it (`15`, not `15.0`).
private func number(_ value: Double) -> String {
    value.rounded() == value && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
}

/// The numeric bounds of a setting, if it has any.
private func bounds(_ kind: SettingKind) -> (Double, Double)? {
    switch kind {
    case .integer(let range): (Double(range.lowerBound), Double(range.upperBound))
    case .decimal(let range): (range.lowerBound, range.upperBound)
    default: nil
    }
}

/// Whether `text`, as written in a file, is the catalogue's default `expected` (numbers compare as numbers: `0.10`).
private func sameDefault(_ text: String, _ expected: String, kind: SettingKind) -> Bool {
    if bounds(kind) != nil, let written = Double(text), let value = Double(expected) { return written == value }
    return text == expected
}

/// What a comment has to say about a setting: its range, its words, its minimum length; REQUIRED when it has no default.
private func commentProblems(_ definition: SettingDefinition, _ comment: String) -> [String] {
    var problems: [String] = []
    if let (low, high) = bounds(definition.kind), !ranges(in: comment).contains(where: { $0 == (low, high) }) {
        problems.append("\(definition.name): the comment gives no range \(number(low))-\(number(high)): '\(comment)'")
    }
    if case .choice(let words) = definition.kind {
        for word in words where !comment.contains(word) { problems.append("\(definition.name): the comment does not name '\(word)'") }
    }
    if case .secret(let minimum) = definition.kind, minimum > 0, !comment.contains("at least \(minimum) characters") {
        problems.append("\(definition.name): the comment does not say 'at least \(minimum) characters'")
    }
    if definition.defaultValue == .required, !comment.contains("REQUIRED") {
        problems.append("\(definition.name): required, but the comment does not say REQUIRED")
    }
    return problems
}

@Suite("Settings catalogue")
struct CatalogueTests {
    @Test("every name is listed once and every default is a valid value of its own setting")
    func defaultsAreValid() {
        let names = SettingsCatalogue.all.map(\.name)
        #expect(Set(names).count == names.count)
        for definition in SettingsCatalogue.all {
            #expect(!definition.readers.isEmpty, "\(definition.name) has no reader")
            guard case .value(let text) = definition.defaultValue else { continue }
            switch definition.kind {
            case .integer(let range): #expect(Int(text).map(range.contains) == true, "\(definition.name)=\(text)")
            case .decimal(let range): #expect(Double(text).map(range.contains) == true, "\(definition.name)=\(text)")
            case .choice(let words): #expect(words.contains(text), "\(definition.name)=\(text)")
            case .host: #expect(!text.contains(where: { $0.isWhitespace || $0 == "/" }), "\(definition.name)=\(text)")
            case .text, .secret: break
            }
        }
    }

    @Test(".env.example documents every setting with the catalogue's default and range, and nothing else")
    func envExample() throws {
        let lines = try read(".env.example").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var problems: [String] = []
        var documented: Set<String> = []
        for (index, line) in lines.enumerated() {
            if !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") {
                let name = String(line[..<equals]), value = String(line[line.index(after: equals)...])
                documented.insert(name)
                guard let definition = SettingsCatalogue.definition(of: name) else {
                    problems.append("\(name) is in .env.example but not in the catalogue")
                    continue
                }
                switch definition.defaultValue {
                case .value(let expected) where !sameDefault(value, expected, kind: definition.kind):
                    problems.append("\(name): .env.example shows '\(value)', the catalogue's default is '\(expected)'")
                case .required where !value.isEmpty, .perReader where !value.isEmpty:
                    problems.append("\(name): .env.example gives '\(value)', but the setting has no single default")
                default: break
                }
                // The comment above the run of assignments this line belongs to.
                var above = index - 1
                while above >= 0, !lines[above].hasPrefix("#"), lines[above].contains("=") { above -= 1 }
                var comment: [String] = []
                while above >= 0, lines[above].hasPrefix("#") { comment.insert(lines[above], at: 0); above -= 1 }
                problems += commentProblems(definition, comment.joined(separator: " "))
            } else if line.hasPrefix("# "), let word = line.dropFirst(2).split(separator: " ").first,
                      let definition = SettingsCatalogue.definition(of: String(word)) {
                // A setting documented in a comment only (it has no value worth copying into .env).
                documented.insert(definition.name)
                problems += commentProblems(definition, line)
                if case .value(let expected) = definition.defaultValue, !expected.isEmpty, !line.contains("default \(expected)") {
                    problems.append("\(definition.name): the comment does not say 'default \(expected)'")
                }
            }
        }
        let text = lines.joined(separator: "\n")
        for definition in SettingsCatalogue.all where !documented.contains(definition.name) && !text.contains(definition.name) {
            problems.append("\(definition.name) is not documented in .env.example")
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test("checks/env.yaml judges each variable by the catalogue's type and range")
    func envRules() throws {
        let document = try YAMLDocumentParser.parse(try read("checks/env.yaml"), file: "checks/env.yaml")
        guard case .sequence(let rules)? = document["rules"]?.kind else {
            Issue.record("checks/env.yaml has no rules list")
            return
        }
        #expect(!rules.isEmpty)
        for rule in rules {
            let name = rule["name"]?.scalar ?? "?"
            guard let definition = SettingsCatalogue.definition(of: name) else {
                Issue.record("\(name) is checked by checks/env.yaml but not in the catalogue")
                continue
            }
            let minimum = rule["min"]?.scalar.flatMap(Double.init), maximum = rule["max"]?.scalar.flatMap(Double.init)
            switch (rule["type"]?.scalar ?? "string", definition.kind) {
            case ("host", .host), ("string", .text):
                break
            case ("string", .secret(let length)):
                #expect(rule["min_length"]?.scalar.flatMap(Int.init) == (length > 0 ? length : nil), "\(name): min_length")
            case ("port", .integer(let range)):
                #expect(range == 1...65535, "\(name): a port in env.yaml, not in the catalogue")
            case ("integer", .integer(let range)):
                #expect(minimum == Double(range.lowerBound) && maximum == Double(range.upperBound), "\(name): env.yaml's range differs")
            case ("decimal", .decimal(let range)):
                #expect(minimum == range.lowerBound && maximum == range.upperBound, "\(name): env.yaml's range differs")
            case (let type, let kind):
                Issue.record("\(name): env.yaml checks it as \(type), the catalogue has \(kind)")
            }
        }
    }

    @Test("the compose file's fallbacks are the catalogue's defaults")
    func composeDefaults() throws {
        let compose = try read("services/docker-compose.yml")
        let fallbacks = compose.matches(of: /\$\{([A-Z0-9_]+):-([^}]*)\}/).map { (String($0.output.1), String($0.output.2)) }
        #expect(!fallbacks.isEmpty)
        for (name, fallback) in fallbacks {
            guard let definition = SettingsCatalogue.definition(of: name) else {
                Issue.record("\(name) is read by the compose file but not in the catalogue")
                continue
            }
            guard case .value(let expected) = definition.defaultValue else {
                Issue.record("\(name): the compose file falls back to '\(fallback)', the catalogue has no single default")
                continue
            }
            #expect(sameDefault(fallback, expected, kind: definition.kind), "\(name): compose falls back to '\(fallback)', the catalogue to '\(expected)'")
        }
    }
}
