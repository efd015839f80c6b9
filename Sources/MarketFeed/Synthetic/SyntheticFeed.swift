#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Primitives
import TradingCore

/// The built-in default feed: TradingCore's seeded `SyntheticPriceWalk`, one tick per symbol
/// per round, no network and no files. The same seed gives the same prices, quantities, sides
/// and tick ids every run; a walk resumed after an earlier run's last tick continues from that
/// tick's price with ids of its own (`SyntheticPriceWalk.init(seed:resumingAfter:)`).
public struct SyntheticFeed: TickFeed {
    /// Where tick event times come from.
    public enum EventClock: Sendable, Equatable {
        /// The wall clock when the round is produced: what a live pipeline with a staleness check needs.
        case wallClock
        /// `start + round × step`: fully reproducible ticks, for backtests and tests.
        case simulated(start: Date, step: Duration)
    }

    /// Settings with their defaults; `validate()` lists what is out of range.
    public struct Configuration: Sendable, Equatable {
        /// Symbols to walk, each independently. Default `["BTCUSDT"]`; A-Z and 0-9, 2 to 20 characters.
        public var symbols: [String]
        /// Seed of the walks. Default 42. Each symbol's walk is seeded from this seed and the
        /// symbol's name (so adding a symbol does not change the others' paths).
        public var seed: UInt64
        /// Start price of symbols not in `startPrices`. Default 50,000; must be positive.
        public var startPrice: Double
        /// Per-symbol start prices, e.g. `["ETHUSDT": 3_000]`. Default empty; positive.
        public var startPrices: [String: Double]
        /// Pause between rounds (one tick per symbol each). Default 1 s; 0 means as fast as
        /// possible (yielding between rounds); at most 1 h.
        public var interval: Duration
        /// Stop after this many rounds (`run` returns `.finished`); nil (default) runs until cancelled.
        public var maxRounds: Int?
        /// Source of event times. Default `.wallClock`.
        public var eventClock: EventClock
        /// The newest tick an earlier run published, per symbol: that symbol's walk continues after it
        /// instead of starting at its start price. Default empty; at most one per symbol, positive prices.
        public var resumingAfter: [MarketTick]

        /// Creates a configuration; every argument has the documented default.
        public init(
            symbols: [String] = ["BTCUSDT"],
            seed: UInt64 = 42,
            startPrice: Double = 50_000,
            startPrices: [String: Double] = [:],
            interval: Duration = .seconds(1),
            maxRounds: Int? = nil,
            eventClock: EventClock = .wallClock,
            resumingAfter: [MarketTick] = []
        ) {
            self.symbols = symbols
            self.seed = seed
            self.startPrice = startPrice
            self.startPrices = startPrices
            self.interval = interval
            self.maxRounds = maxRounds
            self.eventClock = eventClock
            self.resumingAfter = resumingAfter
        }

        /// Every value out of range, as one line each; empty when the configuration is usable.
        public func problems() -> [String] {
            var problems = SymbolFormat.problems(in: symbols)
            if !(startPrice.isFinite && startPrice > 0) {
                problems.append("startPrice must be a positive number, got \(startPrice)")
            }
            for (symbol, price) in startPrices.sorted(by: { $0.key < $1.key }) where !(price.isFinite && price > 0) {
                problems.append("startPrices[\(symbol)] must be a positive number, got \(price)")
            }
            if interval < .zero || interval > .seconds(3_600) {
                problems.append("interval must be between 0 and 1 h, got \(interval.readable)")
            }
            if let maxRounds, maxRounds < 0 {
                problems.append("maxRounds must not be negative, got \(maxRounds)")
            }
            if case .simulated(_, let step) = eventClock, step < .zero {
                problems.append("the simulated clock's step must not be negative")
            }
            var resumed = Set<String>()
            for tick in resumingAfter {
                if !resumed.insert(tick.symbol).inserted {
                    problems.append("resumingAfter holds more than one tick of \(tick.symbol)")
                }
                if !(tick.price.isFinite && tick.price > 0) {
                    problems.append("resumingAfter: tick \(tick.id) must have a positive price, got \(tick.price)")
                }
            }
            return problems
        }
    }

    /// The settings this feed runs with.
    public let configuration: Configuration
    /// Counters and last-tick time, for `/status`, `/metrics` and `/health`.
    public let monitor: FeedMonitor

    /// Creates the feed; throws `MarketFeedError.invalidConfiguration` listing every bad value.
    public init(_ configuration: Configuration = .init(), monitor: FeedMonitor = FeedMonitor()) throws(MarketFeedError) {
        let problems = configuration.problems()
        guard problems.isEmpty else { throw .invalidConfiguration(feed: "synthetic feed", problems: problems) }
        self.configuration = configuration
        self.monitor = monitor
    }

    /// The seed of `symbol`'s walk: `seed` mixed with the FNV-1a hash of the symbol's name.
    public static func walkSeed(seed: UInt64, symbol: String) -> UInt64 {
        SyntheticPriceWalk.variantSeed(of: seed, named: symbol)
    }

    /// Produces ticks into `deliver`; see `TickFeed.run(deliver:)`.
    @discardableResult
    public func run(deliver: (MarketTick) async throws -> Void) async throws -> FeedCompletion {
        monitor.recordStart()
        var walks = configuration.symbols.map { symbol in
            let seed = Self.walkSeed(seed: configuration.seed, symbol: symbol)
            if let last = configuration.resumingAfter.first(where: { $0.symbol == symbol }) {
                return SyntheticPriceWalk(seed: seed, resumingAfter: last)
            }
            return SyntheticPriceWalk(
                seed: seed, startPrice: configuration.startPrices[symbol] ?? configuration.startPrice, symbol: symbol)
        }
        let clock = ContinuousClock()
        var deadline = clock.now
        var round = 0
        while configuration.maxRounds.map({ round < $0 }) ?? true {
            if Task.isCancelled { return .cancelled }
            let eventTime: Date
            switch configuration.eventClock {
            case .wallClock:
                eventTime = Date()
            case .simulated(let start, let step):
                eventTime = start.addingTimeInterval((step * round).seconds)
            }
            for index in walks.indices {
                let tick = walks[index].nextTick(at: eventTime)
                monitor.recordTick(tick)
                try await deliver(tick)
            }
            round += 1
            if let maxRounds = configuration.maxRounds, round >= maxRounds { break }
            if configuration.interval > .zero {
                // Rounds keep to a fixed schedule (no drift); after a stall (a slow publisher) the
                // schedule restarts from now instead of bursting to catch up.
                let now = clock.now
                deadline = max(deadline + configuration.interval, now)
                do {
                    try await clock.sleep(until: deadline)
                } catch {
                    return .cancelled
                }
            } else {
                await Task.yield()
            }
        }
        return Task.isCancelled ? .cancelled : .finished
    }
}
