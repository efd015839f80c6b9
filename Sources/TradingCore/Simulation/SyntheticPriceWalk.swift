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
    /// Number of steps taken so far.
    public private(set) var step: Int
    private var generator: SplitMix64

    /// Starts a walk at `startPrice` in the `.normal` regime.
    public init(seed: UInt64, startPrice: Double, symbol: String) {
        precondition(startPrice.isFinite && startPrice > 0, "startPrice must be a positive finite number")
        self.symbol = symbol
        self.seed = seed
        self.price = startPrice
        self.regime = .normal
        self.step = 0
        self.generator = SplitMix64(seed: seed)
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
            id: EventID.derived(from: "synthetic-tick", symbol, String(seed), String(step)),
            symbol: symbol,
            price: newPrice,
            quantity: quantity,
            aggressorSide: side,
            eventTime: eventTime,
            source: .synthetic
        )
    }
}
