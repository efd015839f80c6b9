import YAMLParser

extension RunbookDecoder {
    static let scheduleEntryKeys = ["id", "run", "every", "at", "days"]

    /// `schedule:` — a list of `{ id, run, every | at, days }`; every problem is recorded, located, in the context.
    func decodeSchedule(_ node: YAMLNode?) -> RunbookSchedule {
        guard let node, let items = context.sequence(node, what: "schedule") else { return RunbookSchedule() }
        var seen: [String: YAMLMark] = [:]
        var entries: [ScheduleEntry] = []
        for item in items {
            if let id = item["id"]?.scalar {
                if let first = seen[id] { context.error("schedule '\(id)': duplicate id (first at \(first))", at: item.mark) }
                seen[id] = item.mark
            }
            if let entry = decodeScheduleEntry(item) { entries.append(entry) }
        }
        return RunbookSchedule(entries: entries)
    }

    private func decodeScheduleEntry(_ node: YAMLNode) -> ScheduleEntry? {
        let label = "schedule '\(node["id"]?.scalar ?? "?")'"
        guard let reader = context.mapping(node, what: label, allowedKeys: Self.scheduleEntryKeys) else { return nil }
        let id = reader.required("id", as: String.self)
        // The id names the entry's log file, so it stays a plain file name.
        if let id, id.isEmpty || !id.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) {
            context.error("\(label).id: use lower-case letters, digits and '-' (it names reports/cron/<id>.log), got '\(id)'", at: reader["id"]!.mark)
        }
        let run = decodeRun(reader, label: label)
        let timing = decodeTiming(reader, label: label)
        var days = Weekday.allCases
        if let daysNode = reader["days"], let items = context.sequence(daysNode, what: "\(label).days") {
            let named = items.compactMap { context.scalar($0, as: Weekday.self, what: "\(label).days") }
            if items.isEmpty { context.error("\(label).days: name at least one day, or leave days out for every day", at: daysNode.mark) }
            days = Weekday.allCases.filter { named.contains($0) }
        }
        guard let id, let run, let timing else { return nil }
        return ScheduleEntry(id: id, run: run, timing: timing, days: days, mark: node.mark)
    }

    /// `run`: cdbctl's argv, one of `CDBCtlJob.all`. Cron hands the line to /bin/sh and turns `%` into a newline
    /// before the shell sees it, so neither may appear in an argument; everything else is quoted when rendered.
    private func decodeRun(_ reader: YAMLMappingReader, label: String) -> [String]? {
        guard let node = reader.requiredNode("run"), let items = context.sequence(node, what: "\(label).run") else { return nil }
        var run: [String] = []
        var usable = true
        for item in items {
            guard let argument = context.scalar(item, as: String.self, what: "\(label).run") else { usable = false; continue }
            if argument.contains(where: \.isNewline) || argument.contains("%") {
                context.error("\(label).run: '\(argument.debugDescription.dropFirst().dropLast())' contains a newline or '%', which cron would cut the command at", at: item.mark)
                usable = false
            }
            run.append(argument)
        }
        guard usable else { return nil }
        if run.isEmpty {
            context.error("\(label).run: name the cdbctl job, e.g. [monitor, --remediate]", at: node.mark)
            return nil
        }
        if let problem = CDBCtlJob.problem(with: run) {
            context.error("\(label).run: \(problem)", at: node.mark)
            return nil
        }
        return run
    }

    /// Exactly one of `every` (a divisor of a day, counted from 00:00 UTC) and `at` (one time or a list).
    private func decodeTiming(_ reader: YAMLMappingReader, label: String) -> ScheduleTiming? {
        switch (reader["every"], reader["at"]) {
        case (nil, nil):
            context.error("\(label): give 'every' (e.g. 4h) or 'at' (e.g. \"09:00\", UTC)", at: reader.node.mark)
            return nil
        case (.some, .some):
            context.error("\(label): give 'every' or 'at', not both", at: reader["at"]!.mark)
            return nil
        case (.some(let node), nil):
            guard let interval = reader.optional("every", as: Duration.self) else { return nil }
            let milliseconds = interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000
            let minutes = Int(milliseconds / 60_000)
            guard milliseconds % 60_000 == 0, minutes > 0, Weekday.minutesPerDay % minutes == 0, minutes < 60 ? 60 % minutes == 0 : minutes % 60 == 0 else {
                context.error("\(label).every: cron repeats within a day, so use whole minutes dividing an hour or whole hours dividing 24 (e.g. 15m, 4h, 12h)", at: node.mark)
                return nil
            }
            return .every(minutes: minutes)
        case (nil, .some(let node)):
            let items: [YAMLNode]
            if case .sequence(let list) = node.kind { items = list } else { items = [node] }
            let times = items.compactMap { context.scalar($0, as: TimeOfDay.self, what: "\(label).at") }
            guard times.count == items.count else { return nil }
            if times.isEmpty { context.error("\(label).at: name at least one time", at: node.mark); return nil }
            return .at(times)
        }
    }
}
