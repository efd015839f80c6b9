import StackContract
import TradingCore

/// cdb_core's settings: the momentum strategy's windows, threshold and cool-down.
public struct SignalSettings: Sendable, Equatable {
    public var strategy: MomentumStrategyConfig

    /// Reads `STRATEGY_*`; problems (including a short window not below the long one) go to `env`, which
    /// reports them all at `finish()`. The values read are usable either way, so reading can go on.
    public init(reading env: EnvironmentReader) {
        let short = env.read(.strategyShortWindow)
        let long = env.read(.strategyLongWindow)
        if short >= long { env.problem("STRATEGY_SHORT_WINDOW (\(short)) must be smaller than STRATEGY_LONG_WINDOW (\(long))") }
        strategy = MomentumStrategyConfig(
            shortWindow: min(short, long - 1), longWindow: long,
            threshold: env.read(.strategyThreshold),
            cooldownTicks: env.read(.strategyCooldownTicks))
    }
}
