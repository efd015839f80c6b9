import Foundation

/// One figure of a §6 review held against the seed's expectation (§4.1 "Erwartung", §6.1 "Erwartung").
public struct ReviewItem: Sendable, Codable, Equatable {
    public var id: String
    public var title: String
    /// The figure as found, unrounded (the Markdown rounds it for people).
    public var value: Double
    /// The range it was held to, after pro-rating to the hours the run has been up.
    public var expected: String
    public var passed: Bool
}

/// What a review expects of the last 24 hours, as the seed states it per day.
public struct ReviewExpectation: Sendable {
    public var id: String
    public var title: String
    /// The figure of the 24-hour window the expectation is about.
    public var figure: String
    public var perDay: ClosedRange<Double>
    /// Counts grow with time (signals per day); a level (open positions) does not.
    public var growsWithTime: Bool

    /// Seed §4.1: signals +100–500, orders +10–50, trades +5–20 per day, 0–3 open positions, +24 snapshots per
    /// day (hourly); §6.1 asks for more than 100 signals a day, which the first range holds.
    public static let seed: [ReviewExpectation] = [
        ReviewExpectation(id: "signals-per-day", title: "Signals in the last 24 h", figure: "signals", perDay: 100...500, growsWithTime: true),
        ReviewExpectation(id: "orders-per-day", title: "Orders in the last 24 h", figure: "orders", perDay: 10...50, growsWithTime: true),
        ReviewExpectation(id: "trades-per-day", title: "Trades in the last 24 h", figure: "trades", perDay: 5...20, growsWithTime: true),
        ReviewExpectation(id: "open-positions", title: "Open positions", figure: "open_positions", perDay: 0...3, growsWithTime: false),
        ReviewExpectation(id: "snapshots-per-day", title: "Portfolio snapshots in the last 24 h", figure: "portfolio_snapshots",
                          perDay: 24...Double.infinity, growsWithTime: true),
    ]

    /// The expectation for a window of `hours` (≤ 24): a run up for 6 hours needs a quarter of a day's minimum. Upper
    /// bounds are judged only on a full day, where a short window's bursts average out.
    public func judge(_ value: Double, hours: Double) -> ReviewItem {
        let fraction = growsWithTime ? min(1, max(0, hours / 24)) : 1
        let minimum = (perDay.lowerBound * fraction).rounded(.down)
        let fullDay = fraction >= 1
        let maximum = fullDay ? perDay.upperBound : .infinity
        let expected: String
        if maximum.isFinite {
            expected = "\(Int(minimum))–\(Int(maximum))"
        } else {
            expected = "at least \(Int(minimum))" + (fullDay ? "" : String(format: " (%.1f h of the run: %.0f%% of a day's minimum)", hours, fraction * 100))
        }
        return ReviewItem(id: id, title: title, value: value, expected: expected, passed: value >= minimum && value <= maximum)
    }
}

/// A review's verdict: every item it judged, passed only when all passed.
public struct ReviewJudgement: Sendable, Codable {
    public var items: [ReviewItem]
    /// Hours of the run the window covers (24 once the run is a day old).
    public var windowHours: Double
    public var passed: Bool { items.allSatisfy(\.passed) }

    public init(items: [ReviewItem], windowHours: Double) {
        self.items = items
        self.windowHours = windowHours
    }

    enum CodingKeys: String, CodingKey {
        case items, passed
        case windowHours = "window_hours"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(windowHours, forKey: .windowHours)
        try container.encode(passed, forKey: .passed)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        items = try container.decode([ReviewItem].self, forKey: .items)
        windowHours = try container.decode(Double.self, forKey: .windowHours)
    }
}

/// Figures for people: whole numbers as they are, others to two decimals (the JSON twin keeps every digit).
public enum HumanFigures {
    public static func cell(_ text: String?) -> String {
        guard let text else { return "NULL" }
        guard text.contains("."), !text.contains(":"), let value = Double(text), value.isFinite else { return text }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        let decimals = text.split(separator: ".").last?.count ?? 0
        return decimals <= 2 ? text : String(format: "%.2f", value)
    }
}
