import Foundation

/// A small self-contained SVG line chart (no scripts, no external fonts), readable in any browser or Markdown viewer.
public struct SVGLineChart: Sendable {
    public var title: String
    public var points: [SeriesPoint]
    public var format: String
    public var width = 720.0
    public var height = 260.0

    public init(title: String, points: [SeriesPoint], format: String) {
        self.title = title
        self.points = points
        self.format = format
    }

    public func render() -> String {
        let left = 80.0, right = 16.0, top = 32.0, bottom = 36.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        var svg = [#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(height))" viewBox="0 0 \#(Int(width)) \#(Int(height))" font-family="sans-serif" font-size="12">"#,
                   #"<rect width="100%" height="100%" fill="white"/>"#,
                   #"<text x="\#(left)" y="20" font-weight="bold">\#(Self.escape(title))</text>"#]
        guard let first = points.first, let last = points.last else {
            svg.append(#"<text x="\#(left)" y="\#(top + plotHeight / 2)">no portfolio snapshots in this window</text>"#)
            return (svg + ["</svg>"]).joined(separator: "\n") + "\n"
        }
        var low = points.map(\.value).min()!, high = points.map(\.value).max()!
        if high - low < 1e-9 { low -= 1; high += 1 }
        let start = first.time.timeIntervalSince1970, span = max(last.time.timeIntervalSince1970 - start, 1)
        func x(_ point: SeriesPoint) -> Double { left + (point.time.timeIntervalSince1970 - start) / span * plotWidth }
        func y(_ value: Double) -> Double { top + (high - value) / (high - low) * plotHeight }
        svg.append(##"<rect x="\##(left)" y="\##(top)" width="\##(plotWidth)" height="\##(plotHeight)" fill="none" stroke="#ccc"/>"##)
        for value in [high, (high + low) / 2, low] {
            svg.append(#"<text x="\#(left - 6)" y="\#(y(value) + 4)" text-anchor="end">\#(String(format: format, value))</text>"#)
        }
        let times = ISO8601DateFormatter()
        times.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime]
        svg.append(#"<text x="\#(left)" y="\#(height - 12)">\#(times.string(from: first.time)) UTC</text>"#)
        svg.append(#"<text x="\#(width - right)" y="\#(height - 12)" text-anchor="end">\#(times.string(from: last.time)) UTC</text>"#)
        let path = points.map { String(format: "%.1f,%.1f", x($0), y($0.value)) }.joined(separator: " ")
        svg.append(##"<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="\##(path)"/>"##)
        return (svg + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
