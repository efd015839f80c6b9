/// `cdbctl monitor --remediate`: each alarm handed to its incident playbook (seed §4.2's action column).
public enum Remediation {
    /// The playbooks the alarms call for: critical alarms first; each playbook once per cycle even when several
    /// alarms call for it.
    public static func playbooks(for alarms: [Alarm]) -> [IncidentKind] {
        var seen: Set<String> = []
        return alarms.sorted(by: { $0.severity == .critical && $1.severity != .critical }).compactMap { alarm in
            guard let name = alarm.playbook, let kind = IncidentKind(rawValue: name), seen.insert(name).inserted else { return nil }
            return kind
        }
    }

    /// Runs the playbooks for the cycle's alarms; each one's verdict becomes a note and its steps join the record.
    public static func run(for record: inout PhaseRecord, with runner: PhaseRunner) async {
        for kind in playbooks(for: record.alarms) {
            do {
                let playbook = try await IncidentPlaybook(kind: kind).run(with: runner)
                record.notes.append("remediation \(kind.rawValue): \(playbook.verdict) (\(playbook.notes.first ?? ""))")
                record.results += playbook.results
            } catch {
                record.notes.append("remediation \(kind.rawValue): not run: \(error)")
            }
        }
    }
}
