import ArgumentParser
import Foundation
import Runbook

/// `cdbctl validate`: every problem in runbook.yaml, located, with suggestions; touches nothing.
struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check runbook.yaml and the checks/ files it uses; report every error as file:line:col.",
        discussion: "Exit 0 when valid, 2 otherwise.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let definition = try options.loadRunbook()
        let counts = PhaseName.allCases.map { "\($0.rawValue) \(definition.phase($0).steps.count)" }
        print("\(definition.file): valid — \(definition.allSteps.count) steps (\(counts.joined(separator: ", ")))")
    }
}
