import ArgumentParser
import Foundation
import Runbook

/// `cdbctl env`: the settings as cdbctl reads them — checked, or handed to a script as data.
struct Env: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the settings (.env and the environment) or print them for a script.",
        subcommands: [Check.self, Export.self])

    /// `cdbctl env check`: the preflight's env step alone, with nothing recorded and no lock taken.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the preflight's env step alone: the file read as compose reads it, every rule of checks/env.yaml.",
            discussion: "Exit 0 when every rule holds, 1 when one fails, 2 when the file cannot be read (every problem located as file:line).")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let definition = try options.loadRunbook()
            // The file must parse (exit 2 otherwise); its values are the step's to judge, not a usage error.
            let environment = try options.environment()
            let steps = definition.phase(.preflight).steps.compactMap { step -> (RunbookStep, [EnvRule])? in
                (step.check as? EnvCheck).map { (step, $0.rules) }
            }
            guard !steps.isEmpty else { throw CommandFailure.usage("\(definition.file): the preflight has no env step") }
            let results = steps.map { step, rules in (step: step, outcome: EnvRuleCheck.evaluate(rules, environment: environment)) }
            let source = options.envFilePath ?? "the process environment (no .env)"
            if options.json {
                print(TableOutput.json(EnvCheckReport(
                    file: options.envFilePath,
                    steps: results.map { .init(id: $0.step.id, status: $0.outcome.status.rawValue, detail: $0.outcome.detail) })))
            } else {
                print(TableOutput.table(
                    headers: ["STEP", "SEED", "STATUS", "DETAIL"],
                    rows: results.map { [$0.step.id, $0.step.seed, $0.outcome.status.rawValue.uppercased(), $0.outcome.detail] },
                    statusColumn: 2))
                print("settings read from \(source)")
            }
            if results.contains(where: { $0.outcome.status != .pass }) { throw CommandFailure.failed(nil) }
        }
    }

    /// `cdbctl env export`: `NAME='value'` lines for a script to `eval`; the only way the scripts read `.env`.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print settings as shell-quoted NAME='value' lines (the file's values; the process environment wins).",
            discussion: """
            With names, only those (a name set nowhere is left out, so a script's ${NAME:-default} applies); without, every key of the file. \
            Values are single-quoted: `eval "$(cdbctl env export)"` sets them and runs none of them. Exit 2 when the file cannot be read.
            """)

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The settings to print (default: every key the file sets).")
        var names: [String] = []

        func validate() throws {
            if let invalid = names.first(where: { !EnvFile.isVariableName($0) }) {
                throw ValidationError("'\(invalid)' is not a variable name")
            }
        }

        func run() async throws {
            let file: EnvFile?
            do { file = try options.envFilePath.map { path throws(EnvFileErrors) in try EnvFile.load(path: path) } } catch {
                throw CommandFailure.usage("\(error)")
            }
            let merged = (file ?? EnvFile(values: [:], keys: [])).merged(over: ProcessInfo.processInfo.environment)
            let wanted = names.isEmpty ? (file?.keys ?? []) : names
            print(EnvFile.shellAssignments(wanted.compactMap { name in merged[name].map { (name, $0) } }), terminator: "")
        }
    }
}

struct EnvCheckReport: Encodable {
    struct Step: Encodable { var id, status, detail: String }
    var file: String?
    var steps: [Step]
}
