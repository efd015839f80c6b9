import ArgumentParser
import RunReports
import Runbook
import YAMLParser

// The runbook's named choices as typed arguments; their values show in `--help` and shell completion.
extension PhaseName: ExpressibleByArgument {}
extension IncidentKind: ExpressibleByArgument {}
extension ReportKind: ExpressibleByArgument {}

/// Parses a typed choice, naming the valid ones (and the closest, for a typo) when `text` is none of them.
func choice<Choice: RawRepresentable<String> & CaseIterable>(_ text: String, noun: String) throws -> Choice {
    if let value = Choice(rawValue: text) { return value }
    let names = Choice.allCases.map(\.rawValue)
    var message = "unknown \(noun) '\(text)'; one of: \(names.joined(separator: ", "))"
    if let suggestion = closestMatch(to: text, among: names) { message += " (did you mean '\(suggestion)'?)" }
    throw ValidationError(message)
}
