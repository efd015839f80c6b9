@testable import RunReports
import Testing

@Suite("The §6 reviews judge their figures against §4.1's expectations")
struct ReviewJudgementTests {
    let signals = ReviewExpectation.seed.first { $0.id == "signals-per-day" }!
    let positions = ReviewExpectation.seed.first { $0.id == "open-positions" }!

    @Test("a full day is held to the seed's range at both ends")
    func fullDay() {
        #expect(signals.judge(100, hours: 24).passed && signals.judge(500, hours: 24).passed)
        #expect(!signals.judge(99, hours: 24).passed)
        let tooMany = signals.judge(501, hours: 24)
        #expect(!tooMany.passed && tooMany.expected == "100–500")
    }

    @Test("a younger run expects a day's minimum pro rata and no maximum; a level (open positions) is not pro-rated")
    func proRata() {
        let sixHours = signals.judge(25, hours: 6)
        #expect(sixHours.passed && sixHours.expected.hasPrefix("at least 25 (6.0 h of the run: 25% of a day's minimum)"))
        #expect(!signals.judge(24, hours: 6).passed)
        #expect(signals.judge(2_000, hours: 6).passed, "a burst in a short window is no verdict on the day")
        #expect(!positions.judge(4, hours: 1).passed && positions.judge(3, hours: 1).passed)
    }

    @Test("the verdict is the conjunction; figures are rounded for people, whole numbers kept")
    func verdictAndFigures() {
        let judgement = ReviewJudgement(items: [signals.judge(150, hours: 24), positions.judge(5, hours: 24)], windowHours: 24)
        #expect(!judgement.passed)
        #expect(HumanFigures.cell("-455.36215411008783") == "-455.36")
        #expect(HumanFigures.cell("90.25") == "90.25" && HumanFigures.cell("3000") == "3000" && HumanFigures.cell("100000.0") == "100000")
        #expect(HumanFigures.cell(nil) == "NULL" && HumanFigures.cell("2026-12-02 09:00:00.123+00") == "2026-12-02 09:00:00.123+00")
        #expect(HumanFigures.cell("BTCUSDT") == "BTCUSDT")
    }
}
