import Foundation
import LocalServers
import PostgresClient
import TradeStore
import TradingCore
import Testing

@Suite("Decoding stream entries, one bad entry at a time")
struct DecodingTests {
    private let time = Date(timeIntervalSince1970: 1_767_225_600)

    private func json(_ event: StoredEvent) throws -> [UInt8] { try event.encodedEvent().json }

    private func signal(_ id: String) -> StoredEvent {
        .signal(TradingSignal(id: id, symbol: "BTCUSDT", side: .buy, confidence: 0.9, price: 50_000, strategy: "momentum",
                              reason: "breakout", eventTime: time, originTickId: "tick-\(id)", priceTime: time))
    }

    private func trade(_ id: String, message: String = "") -> ClosedTrade {
        ClosedTrade(id: id, symbol: "BTCUSDT", size: 0.01, entryPrice: 50_000, exitPrice: 51_000, pnl: 9, fees: 1,
                    openedAt: time - 600, closedAt: time, orderId: "ord-\(id)", originTickId: "tick-\(id)")
    }

    @Test("every stream's events round-trip through their stream JSON")
    func roundTrip() throws {
        for event in RunbookFixture().allEvents {
            // JSON carries microseconds, so compare what the decoded event encodes to, not the Date values.
            let entry = try event.encodedEvent()
            let decoded = try StoredEvent.decode(stream: entry.stream, json: entry.json)
            #expect(decoded.id == event.id && decoded.stream == event.stream)
            #expect(try decoded.encodedEvent() == entry)
        }
        #expect(StoredEvent.streamNames == ["signals", "orders", "order_results", "trades", "portfolio_snapshots", "risk_events"])
    }

    @Test("malformed entries are reported one by one, naming stream and problem, and the rest is stored")
    func malformedEntriesAreIsolated() async throws {
        var missingPrice = try JSONSerialization.jsonObject(with: Data(try json(signal("sig-missing")))) as! [String: Any]
        missingPrice["price"] = nil
        var futureTrade = try JSONSerialization.jsonObject(with: Data(try json(.trade(trade("trd-future"))))) as! [String: Any]
        futureTrade["schema_version"] = 99
        let nulRejection = RiskRejection(id: "rej-nul", signalId: "sig-x", symbol: "BTCUSDT", side: .buy, reason: .stalePrice,
                                         message: "stale\u{0}price", eventTime: time, originTickId: "tick-x")
        let entries = [
            EncodedEvent(stream: "signals", json: try json(signal("sig-good"))),
            EncodedEvent(stream: "signals", json: Array("{not json".utf8)),
            EncodedEvent(stream: "market_data", json: Array("{}".utf8)),
            EncodedEvent(stream: "signals", json: Array(try JSONSerialization.data(withJSONObject: missingPrice))),
            EncodedEvent(stream: "trades", json: Array(try JSONSerialization.data(withJSONObject: futureTrade))),
            EncodedEvent(stream: "risk_events", json: try json(.riskRejection(nulRejection))),
            EncodedEvent(stream: "orders", json: try json(signal("sig-wrong-stream"))),
            EncodedEvent(stream: "trades", json: try json(.trade(trade("trd-good")))),
        ]

        let decoded = StoredEvent.decodeEach(entries)
        let errors: [TradeStoreError?] = decoded.map { if case .failure(let error) = $0 { error } else { nil } }
        #expect(errors[0] == nil && errors[7] == nil)
        guard case .undecodableEvent("signals", let problem)? = errors[1] else { Issue.record("\(String(describing: errors[1]))"); return }
        #expect(problem.hasPrefix("malformed JSON"))
        #expect(errors[2] == .unknownStream("market_data"))
        #expect(errors[2]?.description.contains("known: signals, orders, order_results") == true)
        #expect(errors[3] == .undecodableEvent(stream: "signals", problem: "missing field 'price'"))
        #expect(errors[4] == .unsupportedSchemaVersion(stream: "trades", eventID: "trd-future", version: 99, supported: 1))
        #expect(errors[5] == .invalidEvent(stream: "risk_events", eventID: "rej-nul", problem: "message contains a NUL character"))
        guard case .undecodableEvent("orders", let wrongProblem)? = errors[6] else { Issue.record("\(String(describing: errors[6]))"); return }
        #expect(wrongProblem.hasPrefix("missing field"))
        #expect(errors.compactMap { $0?.stream } == ["signals", "market_data", "signals", "trades", "risk_events", "orders"])

        let store = try await freshStore()
        let result = try await store.persist(entries: entries)
        #expect(result.failures.map(\.index) == [1, 2, 3, 4, 5, 6])
        #expect(result.failures.map(\.error) == errors.compactMap { $0 })
        let outcome = result.persisted
        #expect(outcome.signals.inserted == 1 && outcome.trades.inserted == 1 && outcome.events == 2)
        let ids = try await store.connection.query("SELECT id FROM signals UNION ALL SELECT id FROM trades ORDER BY id")
            .map { try $0.decode("id", as: String.self) }
        #expect(ids == ["sig-good", "trd-good"])
    }

    @Test("a type mismatch names the field and the expected type")
    func typeMismatch() throws {
        let entry = #"{"id":"x","schema_version":1,"symbol":"BTCUSDT","side":"BUY","confidence":"high","price":1,"strategy":"m","reason":"r","event_time":"2026-01-01T00:00:00Z","origin_tick_id":"t","price_time":"2026-01-01T00:00:00Z"}"#
        let error = #expect(throws: TradeStoreError.self) { try StoredEvent.decode(stream: "signals", json: Array(entry.utf8)) }
        guard case .undecodableEvent(_, let problem)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(problem.hasPrefix("field 'confidence': expected Double"))
    }
}
