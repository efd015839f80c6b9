import YAMLParser

/// `type: wait`: a pause between steps (a service given time to settle).
public struct WaitCheck: CheckType {
    public var duration: Duration

    public static let typeName = "wait"
    public static let keys = ["duration"]

    public static func decode(from reader: CheckReader) -> WaitCheck? {
        reader.required("duration", as: Duration.self).map { WaitCheck(duration: $0) }
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await Task.sleep(for: duration)
        return .pass("waited \(duration.secondsText)")
    }
}
