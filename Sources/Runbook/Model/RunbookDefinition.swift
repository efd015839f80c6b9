import Foundation
import YAMLParser

/// How much a failed step matters: a failed critical step makes the phase fail (NO-GO); a warning does not.
public enum Severity: String, Sendable, Codable, CaseIterable, YAMLScalarDecodable {
    case critical, warning

    public init?(yamlScalar text: String) { self.init(rawValue: text) }
    public static var yamlTypeName: String { "critical or warning" }
}

/// The runbook's phases, in the order of a run.
public enum PhaseName: String, Sendable, Codable, CaseIterable {
    case preflight, go, start, monitor, incidents, report, stop, postrun
    /// `cdbctl risk reset-account`: a fresh paper account (after a changed STARTING_CAPITAL_USD), backed up first.
    case resetAccount = "reset_account"
}

/// One step of a phase: what it checks or does, and how it is run.
public struct RunbookStep: Sendable {
    public var id: String
    public var title: String
    /// The seed runbook section it implements, e.g. "2.5".
    public var seed: String
    /// The seed's checklist items (verbatim) this step answers; a test holds every item to a step.
    public var covers: [String]
    public var severity: Severity
    public var timeout: Duration
    public var retries: Int
    public var retryDelay: Duration
    /// Steps that must pass before this one runs; when one fails this step is skipped with the reason.
    public var needs: [String]
    /// A condition that must hold continuously this long before it counts (as Prometheus' `for:`).
    public var holdFor: Duration?
    /// For monitor steps: the incident playbook a failure hands over to.
    public var playbook: String?
    /// For stop steps: whether the step belongs to the planned stop, the emergency stop, or both (nil).
    public var when: StopMode?
    /// Runs only when the command was given `--<option>` (e.g. `recreate-volume`).
    public var option: String?
    /// Replaces or removes data: refused without `--yes` and without a backup younger than
    /// `settings.destructive_backup_max_age`.
    public var destructive: Bool
    public var check: any CheckType
    public var mark: YAMLMark
}

/// Seed §7.1 (planned, day 7) or §7.2 (emergency).
public enum StopMode: String, Sendable, Codable, CaseIterable, YAMLScalarDecodable {
    case planned, emergency

    public init?(yamlScalar text: String) { self.init(rawValue: text) }
    public static var yamlTypeName: String { "planned or emergency" }
}

/// One phase: its steps and how many run at once.
public struct RunbookPhase: Sendable {
    public var name: PhaseName
    public var concurrency: Int
    public var steps: [RunbookStep]
}

/// Run-wide settings of the runbook file.
public struct RunbookSettings: Sendable {
    /// The compose project whose containers the checks look at.
    public var project: String
    /// `go` accepts preflight results no older than this.
    public var preflightMaxAge: Duration
    /// Destructive steps need a backup younger than this (seed §5.4: "NUR mit Backup!").
    public var destructiveBackupMaxAge: Duration = .seconds(24 * 3600)
}

/// `runbook.yaml`, decoded and validated.
public struct RunbookDefinition: Sendable {
    public var file: String
    public var settings: RunbookSettings
    public var phases: [PhaseName: RunbookPhase]
    /// `notifications:`; nil when the file has none (nothing is sent).
    public var notifications: NotificationSettings?
    /// When cron runs which cdbctl job (`cdbctl schedule`).
    public var schedule = RunbookSchedule()

    public func phase(_ name: PhaseName) -> RunbookPhase {
        phases[name] ?? RunbookPhase(name: name, concurrency: 1, steps: [])
    }

    /// The monitor steps that count Docker's restarts against the previous cycle: the crashes Docker repaired.
    public var crashCountingSteps: Set<String> {
        Set(phase(.monitor).steps.filter { ($0.check as? ContainersCheck)?.maxNewRestarts != nil }.map(\.id))
    }

    /// Every step of every phase, in file order.
    public var allSteps: [RunbookStep] {
        PhaseName.allCases.flatMap { phase($0).steps }
    }

    /// Reads and validates `path`; every problem is reported as `file:line:col: message`.
    public static func load(path: String, baseDirectory: String? = nil) throws -> RunbookDefinition {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RunbookLoadError(message: "\(path): cannot read the runbook (\((error as NSError).localizedDescription))")
        }
        let base = baseDirectory ?? URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, file: path, baseDirectory: base)
    }

    /// Parses runbook text; `baseDirectory` resolves the `checks/` files the steps refer to.
    public static func parse(_ text: String, file: String, baseDirectory: String) throws -> RunbookDefinition {
        let root = try YAMLDocumentParser.parse(text, file: file)
        let context = YAMLDecodingContext(file: file)
        let decoder = RunbookDecoder(context: context, baseDirectory: baseDirectory)
        let definition = decoder.decode(root)
        try context.finish()
        return definition!
    }
}

/// Where loading the runbook failed outside YAML itself (an unreadable file).
public struct RunbookLoadError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Decodes the node tree, recording every problem in the context rather than stopping at the first.
struct RunbookDecoder {
    let context: YAMLDecodingContext
    let baseDirectory: String

    static let stepKeys = ["id", "title", "seed", "covers", "severity", "timeout", "retries", "retry_delay", "needs",
                           "for", "playbook", "when", "option", "destructive", "check"]

    /// The `--<option>` flags a step may wait for.
    static let stepOptions = ["recreate-volume"]

    func decode(_ root: YAMLNode) -> RunbookDefinition? {
        guard let top = context.mapping(root, what: "runbook", allowedKeys: ["version", "settings", "notifications", "phases", "schedule"]) else { return nil }
        if let version = top.required("version", as: Int.self), version != 1 {
            context.error("runbook.version: this cdbctl reads version 1, got \(version)", at: top["version"]!.mark)
        }
        let settings = decodeSettings(top["settings"])
        let notifications = decodeNotifications(top["notifications"])
        var phases: [PhaseName: RunbookPhase] = [:]
        if let phasesNode = top.requiredNode("phases"),
           let reader = context.mapping(phasesNode, what: "phases", allowedKeys: PhaseName.allCases.map(\.rawValue)) {
            for pair in reader.pairs {
                guard let key = pair.key.scalar, let name = PhaseName(rawValue: key) else { continue }
                phases[name] = decodePhase(name, pair.value)
            }
        }
        return RunbookDefinition(file: context.file, settings: settings, phases: phases, notifications: notifications,
                                 schedule: decodeSchedule(top["schedule"]))
    }

    private func decodeSettings(_ node: YAMLNode?) -> RunbookSettings {
        var settings = RunbookSettings(project: "cdb", preflightMaxAge: .seconds(24 * 3600))
        guard let node, let reader = context.mapping(node, what: "settings", allowedKeys: [
            "project", "preflight_max_age", "destructive_backup_max_age",
        ]) else { return settings }
        if let value = reader.optional("project", as: String.self) { settings.project = value }
        if let value = reader.optional("preflight_max_age", as: Duration.self) { settings.preflightMaxAge = value }
        if let value = reader.optional("destructive_backup_max_age", as: Duration.self) { settings.destructiveBackupMaxAge = value }
        return settings
    }

    private func decodePhase(_ name: PhaseName, _ node: YAMLNode) -> RunbookPhase {
        var phase = RunbookPhase(name: name, concurrency: 4, steps: [])
        // A phase is either a bare list of steps or a mapping with `concurrency` and `steps`.
        var stepsNode: YAMLNode? = node
        if case .mapping = node.kind, let reader = context.mapping(node, what: "phases.\(name.rawValue)", allowedKeys: ["concurrency", "steps"]) {
            if let value = reader.optional("concurrency", as: Int.self) {
                if value < 1 { context.error("phases.\(name.rawValue).concurrency: must be at least 1, got \(value)", at: reader["concurrency"]!.mark) }
                phase.concurrency = max(1, value)
            }
            stepsNode = reader.requiredNode("steps")
        }
        guard let stepsNode, let items = context.sequence(stepsNode, what: "phases.\(name.rawValue).steps") else { return phase }
        var seen: [String: YAMLMark] = [:]
        // References are checked on every step that has an id, even one whose other keys are wrong,
        // so one mistake does not hide the next.
        var references: [(id: String, needs: [String], mark: YAMLMark)] = []
        for item in items {
            if let id = item["id"]?.scalar {
                if let first = seen[id] {
                    context.error("step '\(id)': duplicate id in phase \(name.rawValue) (first at \(first))", at: item.mark)
                }
                seen[id] = item.mark
                let needs: [String]
                if case .sequence(let list)? = item["needs"]?.kind { needs = list.compactMap(\.scalar) } else { needs = [] }
                references.append((id, needs, item.mark))
            }
            if let step = decodeStep(item, phase: name) { phase.steps.append(step) }
        }
        validateReferences(references, phase: name)
        return phase
    }

    private func decodeStep(_ node: YAMLNode, phase: PhaseName) -> RunbookStep? {
        // The id names the step in every message about it, so it is read before the mapping is checked.
        let label = "step '\(node["id"]?.scalar ?? "?")'"
        guard let reader = context.mapping(node, what: label, allowedKeys: Self.stepKeys) else { return nil }
        let id = reader.required("id", as: String.self)
        let title = reader.required("title", as: String.self)
        let seed = reader.required("seed", as: String.self)
        var covers: [String] = []
        if let node = reader["covers"], let items = context.sequence(node, what: "\(label).covers") {
            covers = items.compactMap { context.scalar($0, as: String.self, what: "\(label).covers") }
        }
        let severity = reader.optional("severity", as: Severity.self) ?? .critical
        let timeout = reader.optional("timeout", as: Duration.self) ?? .seconds(10)
        let retries = reader.optional("retries", as: Int.self) ?? 0
        if retries < 0 { context.error("\(label).retries: must be 0 or more, got \(retries)", at: reader["retries"]!.mark) }
        let retryDelay = reader.optional("retry_delay", as: Duration.self) ?? .seconds(2)
        var needs: [String] = []
        if let node = reader["needs"], let items = context.sequence(node, what: "\(label).needs") {
            needs = items.compactMap { context.scalar($0, as: String.self, what: "\(label).needs") }
        }
        let holdFor = reader.optional("for", as: Duration.self)
        let playbook = reader.optional("playbook", as: String.self)
        let when = reader.optional("when", as: StopMode.self)
        let option = reader.optional("option", as: String.self)
        if let option, !Self.stepOptions.contains(option) {
            context.error("\(label).option: unknown option '\(option)' (one of \(Self.stepOptions.joined(separator: ", ")))", at: reader["option"]!.mark)
        }
        let destructive = reader.optional("destructive", as: Bool.self) ?? false
        if let playbook, !IncidentKind.allNames.contains(playbook) {
            var message = "\(label).playbook: unknown playbook '\(playbook)'"
            if let suggestion = closestMatch(to: playbook, among: IncidentKind.allNames) { message += " (did you mean '\(suggestion)'?)" }
            context.error(message, at: reader["playbook"]!.mark)
        }
        let check = reader.requiredNode("check").flatMap { CheckTypes.decode($0, step: label, context: context, baseDirectory: baseDirectory) }
        if let check, check.deletesData, !destructive {
            context.error("\(label): its check deletes data, so the step needs destructive: true (refused without --yes and a fresh backup)", at: node.mark)
        }
        if phase == .incidents, playbook == nil {
            context.error("\(label): steps of the incidents phase need a playbook (\(IncidentKind.allNames.joined(separator: ", ")))", at: node.mark)
        }
        guard let id, let title, let seed, let check else { return nil }
        return RunbookStep(id: id, title: title, seed: seed, covers: covers, severity: severity, timeout: timeout,
                           retries: max(0, retries), retryDelay: retryDelay, needs: needs, holdFor: holdFor,
                           playbook: playbook, when: when, option: option, destructive: destructive, check: check, mark: node.mark)
    }

    /// `needs` must name steps of the same phase, and must not form a cycle.
    private func validateReferences(_ steps: [(id: String, needs: [String], mark: YAMLMark)], phase: PhaseName) {
        let ids = steps.map(\.id)
        for step in steps {
            for need in step.needs where !ids.contains(need) {
                var message = "step '\(step.id)': needs unknown step '\(need)' in phase \(phase.rawValue)"
                if let suggestion = closestMatch(to: need, among: ids.filter { $0 != step.id }) { message += " (did you mean '\(suggestion)'?)" }
                context.error(message, at: step.mark)
            }
        }
        if let cycle = dependencyCycle(steps.map { ($0.id, $0.needs) }) {
            let first = steps.first { $0.id == cycle[0] }!
            context.error("phase \(phase.rawValue): steps depend on each other in a cycle: \(cycle.joined(separator: " → "))", at: first.mark)
        }
    }
}

/// The first dependency cycle among `steps`, as ids ending where it started; nil when there is none.
func dependencyCycle(_ steps: [(id: String, needs: [String])]) -> [String]? {
    let needs = Dictionary(steps.map { ($0.id, $0.needs) }, uniquingKeysWith: { first, _ in first })
    var state: [String: Bool] = [:]  // false: on the current path, true: finished
    var path: [String] = []
    func visit(_ id: String) -> [String]? {
        if state[id] == true { return nil }
        if state[id] == false { return Array(path[path.firstIndex(of: id)!...]) + [id] }
        state[id] = false
        path.append(id)
        for next in needs[id] ?? [] where needs[next] != nil {
            if let cycle = visit(next) { return cycle }
        }
        path.removeLast()
        state[id] = true
        return nil
    }
    for step in steps {
        if let cycle = visit(step.id) { return cycle }
    }
    return nil
}
