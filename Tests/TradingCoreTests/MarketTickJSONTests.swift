import Foundation
import Testing
import TradingCore

@Suite("MarketTick's own JSON codec agrees with Codable")
struct MarketTickJSONTests {
    /// Ticks across the shapes the bus sees: every source and side, prices from satoshis to 1e15, odd ids.
    static func sampleTicks(count: Int) -> [MarketTick] {
        var random = SplitMix64(seed: 2022)
        let ids = ["3F2504E0-4F89-11D3-9A0C-0305E82C3301", "a/b", "quote\"d", "back\\slash", "tab\there", "ünï©ødé", "ctl\u{01}"]
        let sides: [OrderSide?] = [nil, .buy, .sell]
        let sources: [TickSource] = [.mexc, .replay, .synthetic, .probe]
        return (0..<count).map { index in
            let magnitude = pow(10, Double(Int(random.next() % 22)) - 7)
            let micros = Double(Int64(random.next() % 4_000_000_000_000_000)) - 1_000_000_000_000_000
            return MarketTick(
                id: index < ids.count ? ids[index] : UUID().uuidString,
                symbol: index % 5 == 0 ? "ETH/USDT" : "BTCUSDT",
                price: (random.nextUnitDouble() * magnitude * 1_000).rounded() / 1_000,
                quantity: random.nextUnitDouble() * magnitude,
                aggressorSide: sides[index % sides.count],
                eventTime: Date(timeIntervalSinceReferenceDate: micros / 1_000_000),
                source: sources[index % sources.count])
        }
    }

    @Test("busJSON writes the very bytes EventCoding.encoder writes")
    func encodesLikeJSONEncoder() throws {
        for tick in Self.sampleTicks(count: 2_000) {
            let expected = String(decoding: try EventCoding.encoder.encode(tick), as: UTF8.self)
            #expect(tick.busJSON() == expected)
        }
    }

    @Test("fromBusJSON reads back what either encoder wrote, escaped strings included")
    func decodesWhatEncodersWrite() throws {
        for tick in Self.sampleTicks(count: 2_000) {
            #expect(try MarketTick.fromBusJSON(Array(tick.busJSON().utf8)) == tick)
            #expect(try MarketTick.fromBusJSON(Array(try EventCoding.encoder.encode(tick))) == tick)
        }
    }

    @Test("another producer's layout decodes: any key order, white space, null side, unknown keys")
    func decodesOtherLayouts() throws {
        let text = """
             { "symbol" : "BTCUSDT", "price": 4.25e4, "quantity":0.5, "source":"mexc", "aggressor_side": null,
               "schema_version": 1, "id": "t1", "origin_tick_id": "t1", "event_time": "2022-01-21T10:00:00+01:00",
               "venue": "mexc-spot", "sequence": 17, "note": null }
            """
        let tick = try MarketTick.fromBusJSON(Array(text.utf8))
        #expect(tick == MarketTick(id: "t1", symbol: "BTCUSDT", price: 42_500, quantity: 0.5, eventTime: Date(timeIntervalSince1970: 1_642_755_600), source: .mexc))
        // A value the plain scan does not take (a nested object under an unknown key) still decodes, through JSONDecoder.
        let nested = text.replacingOccurrences(of: "\"sequence\": 17", with: "\"extra\": {\"a\": [1, 2]}")
        #expect(try MarketTick.fromBusJSON(Array(nested.utf8)) == tick)
    }

    @Test("malformed ticks fail with JSONDecoder's own error", arguments: [
        #"{"id":"t1"}"#,
        #"{"event_time":"yesterday","id":"t1","origin_tick_id":"t1","price":1,"quantity":1,"schema_version":1,"source":"mexc","symbol":"BTCUSDT"}"#,
        #"{"event_time":"2022-01-01T00:00:00Z","id":"t1","origin_tick_id":"t1","price":"1","quantity":1,"schema_version":1,"source":"mexc","symbol":"BTCUSDT"}"#,
        #"{"event_time":"2022-01-01T00:00:00Z","id":"t1","origin_tick_id":"t1","price":1,"quantity":1,"schema_version":1.5,"source":"mexc","symbol":"BTCUSDT"}"#,
        #"{"event_time":"2022-01-01T00:00:00Z","id":"t1","origin_tick_id":"t1","price":1,"quantity":1,"schema_version":1,"source":"ftx","symbol":"BTCUSDT"}"#,
        #"{"event_time":"2022-01-01T00:00:00Z","id":"t1","origin_tick_id":"t1","price":01,"quantity":1,"schema_version":1,"source":"mexc","symbol":"BTCUSDT"}"#,
        #"{"event_time":"2022-01-01T00:00:00Z","id":"t1","origin_tick_id":"t1","price":1,"quantity":1,"schema_version":1,"source":"mexc","symbol":"BTCUSDT"} trailing"#,
        "", "[]", "{}", "not json",
    ])
    func rejectsMalformed(text: String) {
        var expected: String?
        do { _ = try EventCoding.decoder.decode(MarketTick.self, from: Data(text.utf8)) } catch { expected = "\(error)" }
        #expect(expected != nil, "JSONDecoder accepted \(text)")
        #expect(throws: (any Error).self) { try MarketTick.fromBusJSON(Array(text.utf8)) }
        do { _ = try MarketTick.fromBusJSON(Array(text.utf8)) } catch { #expect("\(error)" == expected) }
    }
}
