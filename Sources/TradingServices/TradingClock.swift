#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StackContract

/// Reads the machine's clock: the services pass `TradingClock.machineTime`, the stage tests a clock they set.
public typealias WallTime = @Sendable () -> Date

/// Which clock a stage judges staleness and UTC days by.
public enum TradingClock: String, Sendable, Codable {
    /// The machine's clock: live trading.
    case wall
    /// Each event's own time: replays, where a month passes in minutes and the stages read their
    /// streams at different paces, so "now" must be the moment the event describes.
    case market

    /// The time to judge an event stamped `eventTime` by; `wallTime` reads the machine's clock.
    public func now(for eventTime: Date, wallTime: WallTime) -> Date {
        self == .market ? eventTime : wallTime()
    }

    /// The machine's clock as the services read it.
    public static let machineTime: WallTime = { Date() }

    /// The clock `CLOCK` names; the catalogue admits only `wall` and `market`, and a value it refused reads as `wall`.
    public init(reading env: EnvironmentReader) {
        self = TradingClock(rawValue: env.read(.clock)) ?? .wall
    }
}
