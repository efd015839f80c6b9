#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Primitives
import TradingCore

/// Replays a file of bars (CSV) or trades (JSON Lines) as ticks, at real time, N× or full speed.
///
/// The file is streamed through a small buffer, never loaded whole. A CSV bar becomes one tick
/// at its **close** price with the bar's volume as quantity and the bar's timestamp as event
/// time: the close is the last price actually traded in the bar and the only one known when the
/// bar's timestamp has passed, so strategies never see a price "from the future" (the high and
/// low happened at unknown moments inside the bar). Tick ids are derived from the run id, the
/// symbol and the line number, so replaying a file gives the same ids every time.
public struct ReplayFeed: TickFeed {
    /// The layout of the replay file.
    public enum Format: String, Sendable, Equatable {
        /// Chosen by extension: `.csv` → `csvBars`, `.jsonl`/`.ndjson` → `jsonLines`.
        case automatic
        /// OHLCV bars with the header `timestamp,open,high,low,close,volume`; timestamps
        /// `YYYY-MM-DD HH:MM:SS.ffffff` in UTC (ISO-8601 with a zone also accepted).
        case csvBars
        /// One JSON trade per line: `{"symbol":…,"price":…,"quantity":…,"time":…}`, time as
        /// ISO-8601 or epoch milliseconds, optional `"side":"buy"|"sell"`.
        case jsonLines
    }

    /// What a malformed line does to the replay.
    public enum MalformedLinePolicy: String, Sendable, Equatable {
        /// Stop the replay with `MarketFeedError.malformedLine` (default: bad data should be
        /// fixed, not silently thinned out).
        case stop
        /// Skip the line, count it in `FeedStatistics.skippedLines` and log it.
        case skip
    }

    /// Which time the ticks carry.
    public enum EventTimes: String, Sendable, Equatable {
        /// The time recorded in the file (default): reproducible, but older than any
        /// `DATA_STALE_TIMEOUT_SEC`, so a live risk check rejects orders on them.
        case recorded
        /// The wall clock when the tick is emitted: for demos that run replayed prices through
        /// the live pipeline with its staleness checks.
        case emission
    }

    /// Settings with their defaults; `problems()` lists what is out of range.
    public struct Configuration: Sendable, Equatable {
        /// The file to replay. Required.
        public var path: String
        /// File layout. Default `.automatic` (by extension).
        public var format: Format
        /// Symbol of CSV bars, and of JSON lines without a `symbol`. Default `BTCUSDT`.
        public var symbol: String
        /// Pace. Default `.realTime`; `.factor(60)` plays an hour per minute; `.max` does not pause.
        public var speed: ReplaySpeed
        /// Default `.stop`.
        public var malformedLines: MalformedLinePolicy
        /// Default `.recorded`.
        public var eventTimes: EventTimes
        /// Mixed into every tick id. Default empty. Set a new value to replay the same file again
        /// into sinks that deduplicate on the event id.
        public var runID: String

        /// Creates a configuration; every argument but `path` has the documented default.
        public init(
            path: String,
            format: Format = .automatic,
            symbol: String = "BTCUSDT",
            speed: ReplaySpeed = .realTime,
            malformedLines: MalformedLinePolicy = .stop,
            eventTimes: EventTimes = .recorded,
            runID: String = ""
        ) {
            self.path = path
            self.format = format
            self.symbol = symbol
            self.speed = speed
            self.malformedLines = malformedLines
            self.eventTimes = eventTimes
            self.runID = runID
        }

        /// The format `format` stands for with this `path`; nil when `.automatic` cannot tell.
        public var resolvedFormat: Format? {
            guard format == .automatic else { return format }
            switch URL(fileURLWithPath: path).pathExtension.lowercased() {
            case "csv": return .csvBars
            case "jsonl", "ndjson": return .jsonLines
            default: return nil
            }
        }

        /// Every value out of range, as one line each; empty when the configuration is usable.
        public func problems() -> [String] {
            var problems: [String] = []
            if path.isEmpty {
                problems.append("path must name a replay file")
            } else if resolvedFormat == nil {
                problems.append("cannot tell the format of '\(path)' from its extension; use .csv, .jsonl or set format")
            }
            problems += SymbolFormat.problems(in: [symbol], field: "symbol")
            if case .factor(let factor) = speed, !(factor.isFinite && factor > 0) {
                problems.append("speed must be max or a positive factor, got \(factor)")
            }
            return problems
        }
    }

    /// The settings this feed runs with.
    public let configuration: Configuration
    /// Counters and last-tick time, for `/status`, `/metrics` and `/health`.
    public let monitor: FeedMonitor
    private let logger: Logger

    /// Creates the feed; throws `MarketFeedError.invalidConfiguration` listing every bad value.
    /// The file itself is opened by `run`.
    public init(
        _ configuration: Configuration,
        monitor: FeedMonitor = FeedMonitor(),
        logger: Logger = Logger(label: "cdb.market-feed.replay")
    ) throws(MarketFeedError) {
        let problems = configuration.problems()
        guard problems.isEmpty else { throw .invalidConfiguration(feed: "replay feed", problems: problems) }
        self.configuration = configuration
        self.monitor = monitor
        self.logger = logger
    }

    private enum Line {
        case blank
        case header
        case record(ReplayRecord)
        case problem(String)
    }

    /// Produces ticks into `deliver`; see `TickFeed.run(deliver:)`.
    @discardableResult
    public func run(deliver: (MarketTick) async throws -> Void) async throws -> FeedCompletion {
        monitor.recordStart()
        let path = configuration.path
        var reader = try LineReader(path: path)
        defer { reader.close() }
        let isCSV = configuration.resolvedFormat == .csvBars
        let jsonParser = JSONLTradeParser(defaultSymbol: configuration.symbol)
        var csvParser: CSVBarParser?
        var pacer = ReplayPacer(speed: configuration.speed)
        var lineNumber = 0
        var ticks = 0
        let started = ContinuousClock.now
        logger.info("replay started", metadata: ["file": "\(path)", "speed": "\(configuration.speed)"])

        while true {
            if Task.isCancelled { return .cancelled }
            lineNumber += 1
            let symbol = configuration.symbol
            let read: Line? = try reader.nextLine { bytes in
                if bytes.isBlank { return .blank }
                do throws(LineProblem) {
                    if isCSV {
                        guard let parser = csvParser else {
                            csvParser = try CSVBarParser(header: bytes, symbol: symbol)
                            return .header
                        }
                        return .record(try parser.parse(bytes))
                    }
                    return .record(try jsonParser.parse(bytes))
                } catch {
                    return .problem(error.message)
                }
            }
            guard let line = read else { break }
            monitor.update { $0.linesRead += 1 }

            switch line {
            case .blank, .header:
                continue
            case .problem(let problem):
                let error = MarketFeedError.malformedLine(file: path, line: lineNumber, problem: problem)
                // Without a header nothing can be read, so that error stops even a skipping replay.
                guard configuration.malformedLines == .skip, !isCSV || csvParser != nil else { throw error }
                let skipped = monitor.snapshot().skippedLines + 1
                monitor.update {
                    $0.skippedLines += 1
                    $0.lastError = error.description
                }
                if skipped <= 10 || skipped % 1_000 == 0 {
                    logger.warning("skipping malformed line", metadata: ["error": "\(error)", "skipped": "\(skipped)"])
                }
            case .record(let record):
                do {
                    try await pacer.wait(for: record.eventTime)
                } catch {
                    return .cancelled
                }
                let tick = MarketTick(
                    id: EventID.derived(from: "replay-tick", configuration.runID, record.symbol, String(lineNumber)),
                    symbol: record.symbol,
                    price: record.price,
                    quantity: record.quantity,
                    aggressorSide: record.aggressorSide,
                    eventTime: configuration.eventTimes == .recorded ? record.eventTime : Date(),
                    source: .replay
                )
                monitor.recordTick(tick)
                try await deliver(tick)
                ticks += 1
                // A consumer that never suspends would otherwise hold a cooperative thread for the whole file.
                if ticks % 1_024 == 0 { await Task.yield() }
            }
        }
        let seconds = (ContinuousClock.now - started).seconds
        logger.info(
            "replay finished",
            metadata: [
                "file": "\(path)", "ticks": "\(ticks)", "lines": "\(lineNumber - 1)",
                "seconds": "\(seconds)", "skipped": "\(monitor.snapshot().skippedLines)",
            ]
        )
        return .finished
    }
}

/// Spaces ticks like the file's event times, divided by the speed factor.
///
/// Each tick is due at `start + (eventTime - firstEventTime) / factor` on the monotonic clock, so
/// sleeping never accumulates drift; ticks whose time goes backwards are emitted at once.
struct ReplayPacer {
    private let factor: Double?
    private let clock = ContinuousClock()
    private var origin: (instant: ContinuousClock.Instant, eventTime: Date)?

    init(speed: ReplaySpeed) {
        switch speed {
        case .max: factor = nil
        case .factor(let value): factor = value
        }
    }

    /// Sleeps until the tick at `eventTime` is due; throws `CancellationError` when cancelled.
    mutating func wait(for eventTime: Date) async throws {
        guard let factor else { return }
        guard let origin else {
            origin = (clock.now, eventTime)
            return
        }
        let offset = eventTime.timeIntervalSince(origin.eventTime) / factor
        guard offset > 0 else { return }
        let due = origin.instant + .seconds(offset)
        if due > clock.now {
            try await clock.sleep(until: due)
        }
    }
}
