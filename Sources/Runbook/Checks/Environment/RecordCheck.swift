import Foundation
import YAMLParser
import Primitives

/// `type: record`: steps of an earlier phase's last record that must have passed, no longer ago than `maxAge`.
public struct RecordCheck: CheckType {
    public var phase: PhaseName
    public var steps: [String]
    public var maxAge: Duration

    public static let typeName = "record"
    public static let keys = ["phase", "steps", "max_age"]

    public static func decode(from reader: CheckReader) -> RecordCheck? {
        guard let phaseText = reader.required("phase", as: String.self) else { return nil }
        guard let phase = PhaseName(rawValue: phaseText) else {
            reader.error("\(reader.what).phase: unknown phase '\(phaseText)' (one of \(PhaseName.allCases.map(\.rawValue).joined(separator: ", ")))", at: reader["phase"]!.mark)
            return nil
        }
        return RecordCheck(phase: phase, steps: reader.strings("steps", required: true) ?? [],
                           maxAge: reader.optional("max_age", as: Duration.self) ?? .seconds(24 * 3600))
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        context.recorded(phase: phase, steps: steps, maxAge: maxAge)
    }
}

extension CheckContext {
    fileprivate func recorded(phase: PhaseName, steps: [String], maxAge: Duration) -> CheckOutcome {
        guard let record = ReportsDirectory(path: reportsDirectory).lastRecord(of: phase) else {
            return .fail("no \(phase.rawValue) on record under \(reportsDirectory): run cdbctl \(phase.rawValue)")
        }
        let age = Date().timeIntervalSince(record.finishedAt)
        var problems: [String] = []
        if age > maxAge.seconds {
            problems.append("the last \(phase.rawValue) is \(GoDecision.hours(age)) old (allowed \(maxAge.secondsText))")
        }
        for id in steps {
            guard let result = record.results.first(where: { $0.id == id }) else { problems.append("\(id) not in the record"); continue }
            if result.status != .pass { problems.append("\(id) \(result.status.rawValue): \(result.detail)") }
        }
        let when = ISO8601DateFormatter().string(from: record.finishedAt)
        return problems.isEmpty ? .pass("\(steps.joined(separator: ", ")) passed in the \(phase.rawValue) of \(when)")
            : .fail("\(phase.rawValue) of \(when): " + problems.joined(separator: "; "))
    }
}
