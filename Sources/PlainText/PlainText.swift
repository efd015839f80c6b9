#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The few text operations the services need that FoundationEssentials leaves out. The services import
// FoundationEssentials only: full Foundation would link ICU (a 34 MB data blob) and swift-corelibs-foundation
// into every binary, and each service's idle memory grows with what it links.

extension Double {
    /// The value with `digits` decimals, as `%.<digits>f` prints it (`1.5.fixed(2)` is `"1.50"`).
    public func fixed(_ digits: Int) -> String {
        formatted("%.*f", [Int32(digits), self])
    }
}

extension BinaryInteger {
    /// The value in decimal, zero-padded on the left to `width` digits, as `%0<width>d` prints it.
    public func zeroPadded(_ width: Int) -> String {
        let digits = String(self.magnitude)
        let padding = String(repeating: "0", count: max(0, width - digits.count - (self < 0 ? 1 : 0)))
        return (self < 0 ? "-" : "") + padding + digits
    }
}

extension StringProtocol {
    /// The text without leading and trailing white space (spaces, tabs, line breaks).
    public func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}

/// C's `vsnprintf` into a buffer sized to whatever it prints.
private func formatted(_ format: String, _ arguments: [any CVarArg]) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    let needed = Int(withVaList(arguments) { vsnprintf(&buffer, buffer.count, format, $0) })
    if needed >= buffer.count {
        buffer = [CChar](repeating: 0, count: needed + 1)
        _ = withVaList(arguments) { vsnprintf(&buffer, buffer.count, format, $0) }
    }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
