#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Volatility regime of the synthetic feed.
public enum VolatilityRegime: String, Codable, Sendable, CaseIterable {
    /// Quiet market.
    case calm
    /// Typical market.
    case normal
    /// Turbulent market.
    case volatile

    /// Standard deviation of one step's relative price change.
    public var stepVolatility: Double {
        switch self {
        case .calm: 0.0002
        case .normal: 0.0006
        case .volatile: 0.0020
        }
    }
}

/// Seeded random walk with switching volatility regimes: the built-in demo feed, which needs
/// no network and no data file.
///
/// Only `+`, `-` and `*` on doubles are used (no `log`, `exp`, `cos`), because the libm
/// transcendental functions may differ in the last bit between platforms; that keeps the
/// sequence identical everywhere for a given seed.
public struct SyntheticPriceWalk: Codable, Sendable, Equatable {
    /// Chance per step of leaving the current regime.
    public static let regimeSwitchProbability = 0.002

    /// Symbol stamped on generated ticks.
    public let symbol: String
    /// Seed the walk started from (part of generated tick ids).
    public let seed: UInt64
    /// Latest price.
    public private(set) var price: Double
    /// Current volatility regime.
    public private(set) var regime: VolatilityRegime
    /// Number of steps taken so far (since the resume point, for a resumed walk).
    public private(set) var step: Int
    /// Id epoch of a resumed walk: the id of the tick it continues after; nil for a walk from its start price.
    public let epoch: String?
    private var generator: SplitMix64

    /// Starts a walk at `startPrice` in the `.normal` regime.
    public init(seed: UInt64, startPrice: Double, symbol: String) {
        precondition(startPrice.isFinite && startPrice > 0, "startPrice must be a positive finite number")
        self.symbol = symbol
        self.seed = seed
        self.price = startPrice
        self.regime = .normal
        self.step = 0
        self.epoch = nil
        self.generator = SplitMix64(seed: seed)
    }

    /// Continues after `last`, the newest tick an earlier run of the walk published: from its price, in the
    /// `.normal` regime, with ids and random sequence of an epoch of its own.
    ///
    /// A tick carries no step, so a restarted feed cannot read back how far the walk had come. The epoch is
    /// `last.id` rather than a start time: ids derived from (seed, epoch, step) differ from those of the walk
    /// before (no epoch, or an older tick's id) and resuming stays reproducible, independent of any clock.
    public init(seed: UInt64, resumingAfter last: MarketTick) {
        precondition(last.price.isFinite && last.price > 0, "the resume point's price must be a positive finite number")
        self.symbol = last.symbol
        self.seed = seed
        self.price = last.price
        self.regime = .normal
        self.step = 0
        self.epoch = last.id
        // Seeded by the epoch too, so the path after a restart does not retrace the moves of the first run.
        self.generator = SplitMix64(seed: Self.variantSeed(of: seed, named: last.id))
    }

    /// `seed` mixed with the FNV-1a hash of `text`: distinct, reproducible seeds for named variants of one walk.
    public static func variantSeed(of seed: UInt64, named text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return seed ^ hash
    }

    /// Advances one step and returns the new price (always positive).
    public mutating func next() -> Double {
        if generator.nextUnitDouble() < Self.regimeSwitchProbability {
            let others = VolatilityRegime.allCases.filter { $0 != regime }
            regime = others[Int(generator.next() % UInt64(others.count))]
        }
        // Irwin–Hall: the sum of 12 uniforms minus 6 is approximately standard normal and
        // bounded by ±6, so with at most 0.2 % volatility a step can never reach zero.
        var gaussian = -6.0
        for _ in 0..<12 { gaussian += generator.nextUnitDouble() }
        price *= 1 + regime.stepVolatility * gaussian
        step += 1
        return price
    }

    /// Advances one step and wraps the price in a tick stamped `eventTime`, with a
    /// reproducible id, a small random quantity and a random aggressor side.
    public mutating func nextTick(at eventTime: Date) -> MarketTick {
        let newPrice = next()
        let quantity = 0.001 + generator.nextUnitDouble() * 0.499
        let side: OrderSide = generator.next() & 1 == 0 ? .buy : .sell
        return MarketTick(
            id: epoch.map { EventID.derived(from: "synthetic-tick", symbol, String(seed), $0, String(step)) }
                ?? EventID.derived(from: "synthetic-tick", symbol, String(seed), String(step)),
            symbol: symbol,
            price: newPrice,
            quantity: quantity,
            aggressorSide: side,
            eventTime: eventTime,
            source: .synthetic
        )
    }
}
