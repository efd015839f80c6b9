import Foundation
import Logging
import MarketFeed
import Testing
import TradingCore

/// A test waited longer than it allows; the feed under test hung.
struct TestTimeout: Error, CustomStringConvertible {
    let seconds: Double
    let what: String
    var description: String { "\(what) did not finish within \(seconds) s" }
}

/// Runs `operation`, failing with `TestTimeout` when it takes longer than `seconds`.
func withDeadline<T: Sendable>(
    _ seconds: Double,
    _ what: String = "the operation",
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw TestTimeout(seconds: seconds, what: what)
        }
        group.cancelAll()
        return value
    }
}

/// The first `count` ticks of `feed` (fewer if it finishes first), through `ticks()`.
func collect(_ feed: some TickFeed, count: Int, within seconds: Double = 10) async throws -> [MarketTick] {
    try await withDeadline(seconds, "collecting \(count) ticks") {
        var ticks: [MarketTick] = []
        for try await tick in feed.ticks() {
            ticks.append(tick)
            if ticks.count == count { break }
        }
        return ticks
    }
}

/// Every tick of a finite feed, through `run(deliver:)`.
func runToEnd(_ feed: some TickFeed, within seconds: Double = 30) async throws -> (ticks: [MarketTick], completion: FeedCompletion) {
    try await withDeadline(seconds, "running the feed to its end") {
        let box = TickBox()
        let completion = try await feed.run { box.append($0) }
        return (box.ticks, completion)
    }
}

/// Thread-safe tick collector for `deliver` closures that must be `Sendable`.
final class TickBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [MarketTick] = []

    func append(_ tick: MarketTick) {
        lock.withLock { stored.append(tick) }
    }

    var ticks: [MarketTick] { lock.withLock { stored } }
    var count: Int { lock.withLock { stored.count } }
}

/// A value behind a lock, for state the fake server shares with the tests.
final class Guarded<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// Polls `condition` every 10 ms until it holds; false after `seconds`.
func eventually(within seconds: Double = 20, _ condition: @Sendable () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A temporary file with `contents`, removed by `remove()`.
struct TemporaryFile {
    let path: String

    init(name: String, contents: String) throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("market-feed-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        path = folder.appendingPathComponent(name).path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }
}

/// Parses a test timestamp, failing loudly on a typo.
func time(_ text: String) -> Date {
    guard let date = EventCoding.parseTimestamp(text) else {
        preconditionFailure("bad test timestamp \(text)")
    }
    return date
}

/// A logger that keeps test output to the test results.
let quietLogger: Logger = {
    var logger = Logger(label: "market-feed-tests")
    logger.logLevel = .critical
    return logger
}()
