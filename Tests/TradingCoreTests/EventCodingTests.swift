import Foundation
import Testing
import TradingCore

@Suite("Event JSON coding")
struct EventCodingTests {
    @Test("timestamps are written as UTC ISO-8601 with microseconds")
    func formatsTimestamps() {
        #expect(EventCoding.timestamp(TestClock.at(0.5)) == "2026-01-01T00:00:00.500000Z")
        #expect(EventCoding.timestamp(TestClock.at(-1.25)) == "2025-12-31T23:59:58.750000Z")
        #expect(EventCoding.timestamp(Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500000Z")
        #expect(EventCoding.timestamp(Date(timeIntervalSince1970: 951_825_600)) == "2000-02-29T12:00:00.000000Z")
    }

    @Test("timestamps parse with zone offsets, without a zone and with sub-microsecond digits")
    func parsesTimestamps() {
        #expect(EventCoding.parseTimestamp("2026-01-01T00:00:00Z") == TestClock.dayStart)
        #expect(EventCoding.parseTimestamp("2026-01-01T01:30:00+01:30") == TestClock.dayStart)
        #expect(EventCoding.parseTimestamp("2025-12-31T19:00:00-0500") == TestClock.dayStart)
        #expect(EventCoding.parseTimestamp("2021-12-31 23:01:00.000000") == Date(timeIntervalSince1970: 1_640_991_660))
        #expect(EventCoding.parseTimestamp("2026-01-01T00:00:00.5Z") == TestClock.at(0.5))
        #expect(EventCoding.parseTimestamp("2026-01-01T00:00:00.250000999Z") == TestClock.at(0.25))
    }

    @Test("malformed timestamps are rejected", arguments: [
        "", "2026-01-01", "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+1", "2026-01-01T00:00:00Zjunk", "20260101T000000Z",
    ])
    func rejectsMalformedTimestamps(text: String) {
        #expect(EventCoding.parseTimestamp(text) == nil)
    }

    @Test("every event type survives an encode/decode round trip unchanged")
    func roundTripsEvents() throws {
        let time = TestClock.at(12.345678)
        let tick = makeTick(price: 50_000.5, at: time)
        let signal = makeSignal(.buy, price: 50_000.5, confidence: 0.42, at: time)
        let order = OrderRequest(
            id: "o1", signalId: nil, symbol: "BTCUSDT", side: .sell, quantity: 0.25, referencePrice: 50_000,
            priceTime: time, maxSlippagePct: 0.01, reduceOnly: true, eventTime: time, originTickId: tick.id
        )
        let rejectedResult = PaperFillModel().fill(order, quote: nil, now: time)
        let rejection = RiskRejection(
            id: "r1", signalId: signal.id, symbol: "BTCUSDT", side: .buy, reason: .stalePrice,
            message: "old", eventTime: time, originTickId: tick.id
        )
        let trade = ClosedTrade(
            id: "t1", symbol: "BTCUSDT", size: 0.5, entryPrice: 100, exitPrice: 110, pnl: 4.9, fees: 0.1,
            openedAt: TestClock.at(1), closedAt: time, orderId: "o1", originTickId: tick.id
        )
        var engine = RiskEngine(startedAt: TestClock.dayStart)
        _ = engine.apply(fill: makeFill(.buy, quantity: 0.1, price: 50_000, fee: 2.5), now: time)
        let snapshot = engine.snapshot(now: time)

        try expectRoundTrip(tick)
        try expectRoundTrip(signal)
        try expectRoundTrip(order)
        try expectRoundTrip(rejectedResult)
        try expectRoundTrip(rejection)
        try expectRoundTrip(trade)
        try expectRoundTrip(snapshot)
    }

    @Test("JSON keys are snake_case and enum values use their wire spellings")
    func usesWireNames() throws {
        let time = TestClock.at(0)
        var engine = RiskEngine(startedAt: time)
        engine.mark(makeTick(price: 50_000, at: time))
        guard let order = engine.evaluate(signal: makeSignal(.buy, price: 50_000, at: time), now: time).order else {
            Issue.record("expected an approved order")
            return
        }
        let orderJSON = try jsonObject(order)
        #expect(Set(orderJSON.keys) == [
            "id", "schema_version", "signal_id", "symbol", "side", "quantity", "reference_price", "price_time",
            "max_slippage_pct", "reduce_only", "event_time", "origin_tick_id",
        ])
        #expect(orderJSON["side"] as? String == "BUY")
        #expect(orderJSON["schema_version"] as? Int == 1)
        #expect(orderJSON["event_time"] as? String == "2026-01-01T00:00:00.000000Z")

        let result = try jsonObject(PaperFillModel().fill(order, quote: nil, now: time))
        #expect(result["status"] as? String == "REJECTED")
        #expect(result["reason"] as? String == "INVALID_PRICE")
        #expect(result["fill_price"] == nil)

        let snapshot = try jsonObject(engine.snapshot(now: time))
        #expect(snapshot["trading_state"] as? String == "ACTIVE")
        #expect(snapshot["total_exposure_pct"] != nil && snapshot["drawdown_from_peak_pct"] != nil)
        #expect(TradingState.dayHalted.rawValue == "DAY_HALTED")
        #expect(TradingState.halted.rawValue == "HALTED")
    }

    @Test("derived event ids are stable, distinct per input and UUID-shaped")
    func derivesIds() {
        let id = EventID.derived(from: "order", "signal-1")
        #expect(id == EventID.derived(from: "order", "signal-1"))
        #expect(id != EventID.derived(from: "order", "signal-2"))
        #expect(EventID.derived(from: "ab", "c") != EventID.derived(from: "a", "bc"))
        #expect(UUID(uuidString: id) != nil)
        #expect(id == id.lowercased())
        let characters = Array(id)
        #expect(characters.count == 36)
        #expect(characters[14] == "8")
        #expect("89ab".contains(characters[19]))
    }

    private func expectRoundTrip<Event: TradingEvent>(_ event: Event) throws {
        let data = try EventCoding.encoder.encode(event)
        let decoded = try EventCoding.decoder.decode(Event.self, from: data)
        #expect(decoded == event)
    }

    private func jsonObject(_ value: some Encodable) throws -> [String: Any] {
        let data = try EventCoding.encoder.encode(value)
        return try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
