import Foundation
import PlainText
import Testing

@Suite("Plain-text formatting without Foundation agrees with String(format:)")
struct PlainTextTests {
    @Test("fixed decimals round and print as %.Nf does", arguments: [
        0.0, -0.0, 1.5, -1.5, 0.125, 0.375, 2.675, 1e-9, -1e-9, 123_456.789_012, 1e21, -47_988.123_456, .pi,
    ])
    func fixedMatchesPrintf(value: Double) {
        for digits in [0, 1, 2, 3, 4, 6] {
            #expect(value.fixed(digits) == String(format: "%.\(digits)f", value))
        }
    }

    @Test("a value wider than the first buffer prints in full")
    func wideValues() {
        #expect(1e300.fixed(2) == String(format: "%.2f", 1e300))
        #expect(Double.infinity.fixed(1) == "inf")
    }

    @Test("integers are zero-padded to a width, as %0Nd pads them")
    func zeroPadding() {
        for (value, width) in [(0, 2), (7, 2), (42, 2), (123, 2), (2026, 4), (5, 6), (-5, 3), (999_999, 6)] {
            #expect(value.zeroPadded(width) == String(format: "%0\(width)d", value))
        }
        #expect(Int32(9).zeroPadded(3) == "009")
    }

    @Test("white space and line breaks are trimmed at both ends, not inside")
    func trimming() {
        #expect("  a b \t\r\n".trimmingWhitespace() == "a b")
        #expect("\n\t ".trimmingWhitespace() == "")
        #expect("".trimmingWhitespace() == "")
        #expect("x".trimmingWhitespace() == "x")
        #expect("  60x ".dropFirst().trimmingWhitespace() == "60x")
    }
}
