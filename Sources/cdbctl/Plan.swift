import ArgumentParser
import Foundation
import Runbook
import Primitives

/// `cdbctl plan <phase>`: what would run, in which order, with which limits; touches nothing.
struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print what a phase would run, and touch nothing.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "One of: \(PhaseName.allCases.map(\.rawValue).joined(separator: ", ")).", transform: { try choice($0, noun: "phase") })
    var phase: PhaseName

    func run() async throws {
        let name = phase
        let definition = try options.loadRunbook()
        let steps = definition.phase(name).steps
        if options.json {
            let rows = steps.map { PlannedStep(step: $0) }
            print(TableOutput.json(rows))
            return
        }
        print("phase \(name.rawValue): \(steps.count) steps, up to \(definition.phase(name).concurrency) at once")
        print(TableOutput.table(
            headers: ["STEP", "SEED", "SEVERITY", "CHECK", "TIMEOUT", "RETRIES", "NEEDS", "TITLE"],
            rows: steps.map { step in
                [step.id, step.seed, step.severity.rawValue, step.check.typeName,
                 step.timeout.secondsText + (step.holdFor.map { " for \($0.secondsText)" } ?? ""),
                 "\(step.retries)", step.needs.joined(separator: ","), PlannedStep.markers(step) + step.title]
            }, colour: false))
    }
}

struct PlannedStep: Encodable {
    var id, title, seed, severity, check: String
    var timeoutSeconds: Double
    var retries: Int
    var needs: [String]
    var holdForSeconds: Double?
    var destructive: Bool
    var option: String?

    /// What the table shows before a title: the step destroys data, or runs only with a flag.
    static func markers(_ step: RunbookStep) -> String {
        (step.destructive ? "[destructive: needs --yes] " : "") + (step.option.map { "[only with --\($0)] " } ?? "")
    }

    init(step: RunbookStep) {
        id = step.id; title = step.title; seed = step.seed; severity = step.severity.rawValue; check = step.check.typeName
        timeoutSeconds = step.timeout.seconds; retries = step.retries; needs = step.needs
        holdForSeconds = step.holdFor.map(\.seconds)
        destructive = step.destructive; option = step.option
    }
}
