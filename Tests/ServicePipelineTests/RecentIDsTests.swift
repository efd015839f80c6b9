import Foundation
import Testing
import TradingCore
import TradingServices

@Suite("RecentIDs in cdb_risk's saved state")
struct RecentIDsTests {
    @Test("saved as the ordered ids once; reloads with the same members, order and eviction")
    func roundTrip() throws {
        var ids = RecentIDs(capacity: 3)
        let inserted = ["a", "b", "c", "d"].map { ids.insert($0) }
        #expect(inserted == [true, true, true, true])
        let data = try EventCoding.encoder.encode(ids)
        #expect(String(decoding: data, as: UTF8.self) == #"{"capacity":3,"order":["b","c","d"]}"#)
        var restored = try EventCoding.decoder.decode(RecentIDs.self, from: data)
        #expect(restored == ids)
        let again = (duplicate: restored.insert("c"), fresh: restored.insert("e"))
        #expect(!again.duplicate && again.fresh)
        #expect(!restored.contains("b"))
    }

    @Test("a state saved before (with the member set as well) still loads")
    func earlierFormat() throws {
        let saved = Data(#"{"capacity":3,"members":["c","b"],"order":["b","c"]}"#.utf8)
        var restored = try EventCoding.decoder.decode(RecentIDs.self, from: saved)
        #expect(restored.contains("b") && restored.contains("c"))
        let duplicate = restored.insert("b")
        #expect(!duplicate)
    }
}
