import Foundation
import TradingServices

/// A wall clock the test sets: pass `wallTime` to a stage, then move time with `advance(by:)`.
public final class SettableWallClock: @unchecked Sendable {
    // Read from the stage's actor while the test advances it: every access holds the lock.
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date) {
        current = start
    }

    public var now: Date {
        lock.withLock { current }
    }

    public func advance(by seconds: TimeInterval) {
        lock.withLock { current += seconds }
    }

    /// What a stage's `wallTime` parameter takes.
    public var wallTime: WallTime {
        { [self] in now }
    }
}
