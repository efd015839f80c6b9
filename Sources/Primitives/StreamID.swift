/// A Redis stream entry id, `<milliseconds>-<sequence>`, ordered as Redis orders entries.
///
/// An id without a sequence (`1700000000000`) reads as `1700000000000-0`, the first id of that millisecond, which
/// is how Redis reads it everywhere but as the end of a range (XRANGE, XREVRANGE's start): there Redis means the
/// millisecond's last id, and a caller that means that says so with `last(inMillisecond:)`. One rule, so two
/// readers of the same text never disagree.
public struct StreamID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The Unix time in milliseconds at which Redis stored the entry (XADD with `*`).
    public var milliseconds: UInt64
    /// The entry's number within its millisecond.
    public var sequence: UInt64

    public init(milliseconds: UInt64, sequence: UInt64 = 0) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Parses `<ms>-<seq>` or `<ms>`; nil for anything else (the special ids `-`, `+`, `$`, `>` included).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count <= 2, let milliseconds = UInt64(parts[0]) else { return nil }
        if parts.count == 2 {
            guard let sequence = UInt64(parts[1]) else { return nil }
            self.init(milliseconds: milliseconds, sequence: sequence)
        } else {
            self.init(milliseconds: milliseconds)
        }
    }

    /// The smallest id, `0-0`: before every entry.
    public static let zero = StreamID(milliseconds: 0)

    /// The last id a millisecond can hold: "up to and including `milliseconds`" as the end of a range.
    public static func last(inMillisecond milliseconds: UInt64) -> StreamID {
        StreamID(milliseconds: milliseconds, sequence: .max)
    }

    /// `<ms>-<seq>`, as Redis accepts it in every command.
    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}
