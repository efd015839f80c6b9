/// SplitMix64 pseudo-random generator: tiny, fast and bit-for-bit reproducible on every platform.
///
/// Usable with the standard library's `random(using:)` APIs; `nextUnitDouble()` avoids them where
/// the exact sequence of doubles must not depend on the standard library version.
public struct SplitMix64: RandomNumberGenerator, Codable, Sendable, Equatable {
    private var state: UInt64

    /// Creates a generator; equal seeds give equal sequences.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        return Self.mix(state)
    }

    /// A uniform double in [0, 1) built from the top 53 bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// SplitMix64's finalizer, a strong 64-bit bit mixer.
    static func mix(_ value: UInt64) -> UInt64 {
        var mixed = value
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        return mixed ^ (mixed >> 31)
    }
}
