import MarketFeed
import StackContract
import Testing
import TradingServices

@Suite("The services' settings against the catalogue")
struct ServiceSettingsTests {
    @Test("cdb_ws's MEXC address and the feed's own default are one")
    func mexcDefault() {
        #expect(Setting<String>.mexcURL.definition.defaultText == MEXCProtocol.defaultURL)
    }

    @Test("CLOCK's words are the stages' clocks; a word the catalogue refused reads as the wall clock")
    func clock() {
        guard case .choice(let words) = Setting<String>.clock.definition.kind else {
            Issue.record("CLOCK is not a choice")
            return
        }
        #expect(words.compactMap(TradingClock.init(rawValue:)).count == words.count)
        #expect(TradingClock(reading: EnvironmentReader(["CLOCK": "market"])) == .market)
        let refused = EnvironmentReader(["CLOCK": "lunar"])
        #expect(TradingClock(reading: refused) == .wall)
        #expect(throws: ConfigurationError.self) { try refused.finish() }
    }
}
