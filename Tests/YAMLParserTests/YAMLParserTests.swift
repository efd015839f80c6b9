import Testing
import YAMLParser

@Suite("YAML through libyaml, with positions")
struct YAMLParserTests {
    @Test("every node keeps the line and column it starts at")
    func nodesKeepPositions() throws {
        let text = """
        phases:
          preflight:
            - id: env
              timeout: 30s
              tags: [a, "b"]
        """
        let root = try YAMLDocumentParser.parse(text, file: "runbook.yaml")
        let step = try #require(root["phases"]?["preflight"].flatMap { node -> YAMLNode? in
            if case .sequence(let items) = node.kind { return items.first }
            return nil
        })
        #expect(step.mark == YAMLMark(line: 3, column: 7))
        #expect(step["id"]?.scalar == "env")
        #expect(step["timeout"]?.mark == YAMLMark(line: 4, column: 16))
        guard case .sequence(let tags)? = step["tags"]?.kind else {
            Issue.record("tags should be a list")
            return
        }
        #expect(tags.map(\.scalar) == ["a", "b"])
        #expect(tags[1].mark == YAMLMark(line: 5, column: 17))
    }

    @Test("a syntax error reads file:line:col with libyaml's problem and context")
    func syntaxErrorIsLocated() {
        let text = "steps:\n  - id: a\n    title: \"unterminated\n"
        let error = #expect(throws: YAMLSyntaxError.self) { try YAMLDocumentParser.parse(text, file: "runbook.yaml") }
        #expect(error?.description.hasPrefix("runbook.yaml:4:1: found unexpected end of stream") == true)
        #expect(error?.description.contains("while scanning a quoted scalar started at 3:12") == true)
    }

    @Test("bad indentation is reported at the offending line")
    func indentationError() {
        let text = "a:\n  b: 1\n c: 2\n"
        let error = #expect(throws: YAMLSyntaxError.self) { try YAMLDocumentParser.parse(text, file: "x.yaml") }
        #expect(error?.mark.line == 3)
    }

    @Test("decoding collects every error, each located, unknown keys with a suggestion")
    func decodingCollectsAllErrors() throws {
        let text = """
        id: env
        timout: 30s
        retries: many
        severity: critical
        """
        let root = try YAMLDocumentParser.parse(text, file: "runbook.yaml")
        let context = YAMLDecodingContext(file: "runbook.yaml")
        let step = try #require(context.mapping(root, what: "step", allowedKeys: ["id", "title", "timeout", "retries", "severity"]))
        #expect(step.required("id", as: String.self) == "env")
        #expect(step.required("title", as: String.self) == nil)
        #expect(step.optional("retries", as: Int.self) == nil)
        let error = #expect(throws: YAMLDecodingError.self) { try context.finish() }
        #expect(error?.diagnostics.map(\.description) == [
            "runbook.yaml:1:1: step: missing required key 'title'",
            "runbook.yaml:2:1: step: unknown key 'timout' (did you mean 'timeout'?)",
            "runbook.yaml:3:10: step.retries: expected an integer, got 'many'",
        ])
    }

    @Test("durations, booleans and nulls decode as the runbook writes them")
    func scalarTypes() throws {
        #expect(Duration(yamlScalar: "500ms") == .milliseconds(500))
        #expect(Duration(yamlScalar: "30s") == .seconds(30))
        #expect(Duration(yamlScalar: "5m") == .seconds(300))
        #expect(Duration(yamlScalar: "4h") == .seconds(14_400))
        #expect(Duration(yamlScalar: "soon") == nil)
        #expect(Bool(yamlScalar: "yes") == true)
        let root = try YAMLDocumentParser.parse("a: ~\nb: \"null\"\nc:\n", file: "x.yaml")
        #expect(root["a"]?.isNull == true)
        #expect(root["b"]?.isNull == false)
        #expect(root["c"]?.isNull == true)
    }

    @Test("aliases resolve to their anchored node; an unknown alias is an error")
    func aliases() throws {
        let root = try YAMLDocumentParser.parse("base: &b {timeout: 5s}\nstep: *b\n", file: "x.yaml")
        #expect(root["step"]?["timeout"]?.scalar == "5s")
        #expect(root["step"]?.mark == YAMLMark(line: 2, column: 7))
        #expect(throws: YAMLSyntaxError.self) { try YAMLDocumentParser.parse("step: *nowhere\n", file: "x.yaml") }
    }

    @Test("duplicate keys are reported with the first occurrence")
    func duplicateKeys() throws {
        let root = try YAMLDocumentParser.parse("id: a\nid: b\n", file: "x.yaml")
        let context = YAMLDecodingContext(file: "x.yaml")
        _ = context.mapping(root, what: "step", allowedKeys: ["id"])
        #expect(context.diagnostics.map(\.description) == ["x.yaml:2:1: step: duplicate key 'id' (first at 1:1)"])
    }
}
