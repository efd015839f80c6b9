import ArgumentParser

/// Benchmarks that print our figures next to a reference measured in the same run on the same server.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cdb-bench",
        abstract: "Measure the adapters and the five-service pipeline against raw tools on the same servers.",
        subcommands: [AdapterBenchmark.self, PipelineBenchmark.self])
}
