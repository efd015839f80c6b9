#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlainText

/// How fast a replay runs relative to the time stamps in the file.
public enum ReplaySpeed: Sendable, Equatable, CustomStringConvertible {
    /// No pauses: as fast as the consumer takes ticks.
    case max
    /// `factor` × real time: 1 keeps the file's spacing, 60 plays an hour in a minute,
    /// 0.5 plays at half speed. Must be positive and finite.
    case factor(Double)

    /// The file's own pace.
    public static let realTime = ReplaySpeed.factor(1)

    /// Parses `max`, `realtime`, `1`, `60`, `60x` or `0.5x` (case-insensitive, `×` accepted too),
    /// as a service reads it from an environment variable; nil for anything else.
    public init?(parsing text: String) {
        var value = text.trimmingWhitespace().lowercased()
        switch value {
        case "max", "fastest", "asap":
            self = .max
            return
        case "realtime", "real-time", "real_time":
            self = .realTime
            return
        default:
            break
        }
        if value.hasSuffix("x") || value.hasSuffix("×") { value.removeLast() }
        guard let factor = Double(value), factor.isFinite, factor > 0 else { return nil }
        self = .factor(factor)
    }

    /// `max`, `real time` or `60.0x`.
    public var description: String {
        switch self {
        case .max: "max"
        case .factor(let factor): factor == 1 ? "real time" : "\(factor)x"
        }
    }
}
