/// Name-based event ids: the same inputs always give the same UUID string.
///
/// Deriving ids from what caused an event (the tick for a signal, the signal for an order, ...)
/// keeps replays bit-identical and lets consumers drop Redis Stream redeliveries by id.
public enum EventID {
    /// A lowercase RFC 9562 version-8 (custom) UUID string derived from `parts`, e.g.
    /// `derived(from: "order", signal.id)`.
    public static func derived(from parts: String...) -> String {
        derived(from: parts)
    }

    /// Array form of `derived(from:)` for callers that assemble the parts dynamically.
    public static func derived(from parts: [String]) -> String {
        // Two FNV-1a lanes with different multipliers give 128 bits; 0xFF never occurs in
        // UTF-8, so it separates parts unambiguously ("ab","c" differs from "a","bc").
        // Hashing the contiguous UTF-8 buffer directly keeps this cheap even in debug builds,
        // where it runs for every order, fill and rejection.
        var high: UInt64 = 0xcbf2_9ce4_8422_2325
        var low: UInt64 = 0x8422_2325_cbf2_9ce4
        for var part in parts {
            part.withUTF8 { bytes in
                for byte in bytes {
                    high = (high ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
                    low = (low ^ UInt64(byte)) &* 0x9e37_79b9_7f4a_7c15
                }
            }
            high = (high ^ 0xFF) &* 0x0000_0100_0000_01b3
            low = (low ^ 0xFF) &* 0x9e37_79b9_7f4a_7c15
        }
        // RFC 9562 version-8 and variant bits, so UUID parsers and uuid columns accept the id.
        high = SplitMix64.mix(high) & 0xFFFF_FFFF_FFFF_0FFF | 0x0000_0000_0000_8000
        low = SplitMix64.mix(low) & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000

        return String(unsafeUninitializedCapacity: 36) { text in
            var position = 0
            for digit in 0..<32 {
                if digit == 8 || digit == 12 || digit == 16 || digit == 20 {
                    text[position] = UInt8(ascii: "-")
                    position += 1
                }
                let nibble = (digit < 16 ? high : low) >> UInt64(60 - 4 * (digit % 16)) & 0xF
                text[position] = UInt8(truncatingIfNeeded: nibble < 10 ? 48 + nibble : 87 + nibble)
                position += 1
            }
            return position
        }
    }
}
