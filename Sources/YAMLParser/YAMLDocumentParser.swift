import CYAML

/// A syntax error from libyaml, with its position.
public struct YAMLSyntaxError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var mark: YAMLMark
    public var problem: String
    /// libyaml's context ("while parsing a block mapping") and where that construct started.
    public var context: String?
    public var contextMark: YAMLMark?

    public var description: String {
        var text = "\(file):\(mark): \(problem)"
        if let context, let contextMark { text += " (\(context) started at \(contextMark))" }
        return text
    }
}

/// Parses YAML text into nodes with positions, through libyaml's event API.
public enum YAMLDocumentParser {
    /// Parses the first document of `text`; an empty text gives a null scalar. `file` names the source in errors.
    public static func parse(_ text: String, file: String) throws(YAMLSyntaxError) -> YAMLNode {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLSyntaxError(file: file, mark: YAMLMark(line: 1, column: 1), problem: "cannot initialise the YAML parser")
        }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { (buffer) throws(YAMLSyntaxError) -> YAMLNode in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = TreeBuilder(file: file)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { throw syntaxError(parser, file: file) }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT || event.type == YAML_DOCUMENT_END_EVENT { break }
                try builder.consume(event)
            }
            return builder.root ?? YAMLNode(kind: .scalar("", plain: true), mark: YAMLMark(line: 1, column: 1))
        }
    }

    private static func syntaxError(_ parser: yaml_parser_t, file: String) -> YAMLSyntaxError {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        let context = parser.context.map { String(cString: $0) }
        return YAMLSyntaxError(
            file: file, mark: mark(parser.problem_mark), problem: problem, context: context,
            contextMark: context == nil ? nil : mark(parser.context_mark))
    }

    static func mark(_ mark: yaml_mark_t) -> YAMLMark {
        YAMLMark(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }
}

/// Turns the flat event stream into a tree, resolving aliases to copies of their anchored nodes.
private struct TreeBuilder {
    private enum Open {
        case sequence(YAMLMark, tag: String?, anchor: String?, items: [YAMLNode])
        case mapping(YAMLMark, tag: String?, anchor: String?, items: [YAMLNode])
    }

    let file: String
    private var stack: [Open] = []
    private var anchors: [String: YAMLNode] = [:]
    private(set) var root: YAMLNode?

    init(file: String) {
        self.file = file
    }

    mutating func consume(_ event: yaml_event_t) throws(YAMLSyntaxError) {
        let mark = YAMLDocumentParser.mark(event.start_mark)
        switch event.type {
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: data.value, count: data.length), as: UTF8.self)
            let plain = data.style == YAML_PLAIN_SCALAR_STYLE || data.style == YAML_ANY_SCALAR_STYLE
            let node = YAMLNode(kind: .scalar(text, plain: plain), mark: mark, tag: Self.text(data.tag))
            try add(node, anchor: Self.text(data.anchor))
        case YAML_SEQUENCE_START_EVENT:
            let data = event.data.sequence_start
            stack.append(.sequence(mark, tag: Self.text(data.tag), anchor: Self.text(data.anchor), items: []))
        case YAML_MAPPING_START_EVENT:
            let data = event.data.mapping_start
            stack.append(.mapping(mark, tag: Self.text(data.tag), anchor: Self.text(data.anchor), items: []))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let open = stack.popLast() else { return }
            switch open {
            case .sequence(let start, let tag, let anchor, let items):
                try add(YAMLNode(kind: .sequence(items), mark: start, tag: tag), anchor: anchor)
            case .mapping(let start, let tag, let anchor, let items):
                var pairs: [YAMLPair] = []
                var index = 0
                while index + 1 < items.count {
                    pairs.append(YAMLPair(key: items[index], value: items[index + 1]))
                    index += 2
                }
                try add(YAMLNode(kind: .mapping(pairs), mark: start, tag: tag), anchor: anchor)
            }
        case YAML_ALIAS_EVENT:
            let name = Self.text(event.data.alias.anchor) ?? ""
            guard var target = anchors[name] else {
                throw YAMLSyntaxError(file: file, mark: mark, problem: "unknown alias '*\(name)'")
            }
            target.mark = mark
            try add(target, anchor: nil)
        default:
            break
        }
    }

    private mutating func add(_ node: YAMLNode, anchor: String?) throws(YAMLSyntaxError) {
        if let anchor { anchors[anchor] = node }
        guard let top = stack.popLast() else {
            root = node
            return
        }
        switch top {
        case .sequence(let mark, let tag, let anchor, var items):
            items.append(node)
            stack.append(.sequence(mark, tag: tag, anchor: anchor, items: items))
        case .mapping(let mark, let tag, let anchor, var items):
            items.append(node)
            stack.append(.mapping(mark, tag: tag, anchor: anchor, items: items))
        }
    }

    private static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
