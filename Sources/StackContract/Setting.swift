/// A program that reads settings from the environment (or, for the docker stack, from `.env`).
public enum SettingReader: String, Sendable, CaseIterable {
    case cdbWS = "cdb_ws"
    case cdbCore = "cdb_core"
    case cdbRisk = "cdb_risk"
    case cdbExecution = "cdb_execution"
    case cdbDBWriter = "cdb_db_writer"
    case cdbctl
    /// `services/docker-compose.yml` and the scripts that start it: compose reads `.env` itself.
    case dockerStack = "docker stack"

    /// The five services.
    public static let services: [SettingReader] = [.cdbWS, .cdbCore, .cdbRisk, .cdbExecution, .cdbDBWriter]
}

/// The values a setting takes.
public enum SettingKind: Sendable, Equatable {
    /// Any text.
    case text
    /// A host name or address: no blanks, no `/`.
    case host
    /// A whole number within the range; a TCP port is `integer(1...65535)`.
    case integer(ClosedRange<Int>)
    /// A decimal number within the range.
    case decimal(ClosedRange<Double>)
    /// One of these words.
    case choice([String])
    /// A secret, never logged; when set, at least this many characters.
    case secret(minimumLength: Int)

    /// The range of every TCP port.
    public static let port = SettingKind.integer(1...65535)
}

/// A setting's default, as `.env.example` shows it.
public enum SettingDefault: Sendable, Equatable {
    /// The value used when the variable is unset or empty, written as in `.env`.
    case value(String)
    /// None: a reader that needs the setting refuses to start without it.
    case required
    /// Each reader brings its own, as described (`HTTP_PORT`: the service's port).
    case perReader(String)
}

/// One entry of the settings catalogue: a variable, the values it takes, its default and who reads it.
public struct SettingDefinition: Sendable {
    public let name: String
    public let kind: SettingKind
    public let defaultValue: SettingDefault
    public let readers: [SettingReader]


    /// The default as `.env` would hold it; nil when the setting has none of its own.
    public var defaultText: String? {
        if case .value(let text) = defaultValue { text } else { nil }
    }
}

/// A setting as a program reads it, typed by the value it yields; `EnvironmentReader.read` takes it.
public struct Setting<Value: Sendable>: Sendable {
    public let definition: SettingDefinition
    /// The catalogue's default; nil when the setting is required or each reader has its own.
    let defaultValue: Value?

    public var name: String { definition.name }

    init(_ name: String, _ kind: SettingKind, default value: Value?, shown: SettingDefault, readers: [SettingReader]) {
        definition = SettingDefinition(name: name, kind: kind, defaultValue: shown, readers: readers)
        defaultValue = value
    }

    /// A setting whose default each reader brings (`read(_:default:)`).
    init(_ name: String, _ kind: SettingKind, perReader description: String, readers: [SettingReader]) {
        self.init(name, kind, default: nil, shown: .perReader(description), readers: readers)
    }
}

extension Setting where Value == Int {
    static func integer(_ name: String, _ range: ClosedRange<Int>, default value: Int, readers: [SettingReader]) -> Self {
        Self(name, .integer(range), default: value, shown: .value("\(value)"), readers: readers)
    }

    static func port(_ name: String, default value: Int, readers: [SettingReader]) -> Self {
        Self(name, .port, default: value, shown: .value("\(value)"), readers: readers)
    }
}

extension Setting where Value == Double {
    static func decimal(_ name: String, _ range: ClosedRange<Double>, default value: Double, readers: [SettingReader]) -> Self {
        Self(name, .decimal(range), default: value, shown: .value(envText(value)), readers: readers)
    }
}

extension Setting where Value == String {
    static func text(_ name: String, default value: String, readers: [SettingReader]) -> Self {
        Self(name, .text, default: value, shown: .value(value), readers: readers)
    }

    static func host(_ name: String, default value: String, readers: [SettingReader]) -> Self {
        Self(name, .host, default: value, shown: .value(value), readers: readers)
    }

    static func choice(_ name: String, _ words: [String], default value: String, readers: [SettingReader]) -> Self {
        Self(name, .choice(words), default: value, shown: .value(value), readers: readers)
    }

    /// `nil` default: required.
    static func secret(_ name: String, minimumLength: Int = 0, default value: String?, readers: [SettingReader]) -> Self {
        Self(name, .secret(minimumLength: minimumLength), default: value, shown: value.map(SettingDefault.value) ?? .required, readers: readers)
    }
}

/// A decimal default as `.env` would hold it: whole numbers without a fraction (`100000`), others as Swift prints them.
private func envText(_ value: Double) -> String {
    value.rounded() == value && abs(value) < 1e12 ? "\(Int(value))" : "\(value)"
}
