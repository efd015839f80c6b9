#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An observed market price with the time it was observed.
public struct PriceQuote: Codable, Sendable, Equatable {
    /// Price in quote currency.
    public let price: Double
    /// When the price was observed.
    public let time: Date
    /// The tick that carried the price, when known.
    public let tickId: String?

    /// Creates a quote.
    public init(price: Double, time: Date, tickId: String? = nil) {
        self.price = price
        self.time = time
        self.tickId = tickId
    }

    /// True for a finite, strictly positive price: the only prices the library acts on.
    public var isUsable: Bool {
        price.isFinite && price > 0
    }
}
