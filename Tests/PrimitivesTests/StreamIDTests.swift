import Primitives
import Testing

@Suite("Stream ids")
struct StreamIDTests {
    @Test("stream ids compare by time, then sequence")
    func order() throws {
        let id = { (text: String) throws -> StreamID in try #require(StreamID(text)) }
        #expect(try id("1700000000000-1") >= id("1700000000000-0"))
        #expect(try id("1699999999999-9") < id("1700000000000-0"))
        #expect(try id("1700000000000-0") == id("1700000000000-0"))
        // Numbers, not text: 10 ms sorts after 9 ms.
        #expect(try id("9-0") < id("10-0"))
    }

    @Test("an id without a sequence is the first of its millisecond; the last one is asked for by name")
    func withoutSequence() {
        #expect(StreamID("1700000000000") == StreamID(milliseconds: 1_700_000_000_000, sequence: 0))
        #expect(StreamID.last(inMillisecond: 1_700_000_000_000) > StreamID(milliseconds: 1_700_000_000_000, sequence: 99))
        #expect(StreamID.last(inMillisecond: 1_700_000_000_000) < StreamID(milliseconds: 1_700_000_000_001))
        #expect(StreamID.last(inMillisecond: 5).description == "5-18446744073709551615")
    }

    @Test("special ids and garbage are not stream ids; an id prints as Redis writes it")
    func parsing() {
        for text in ["", "-", "+", "$", ">", "abc", "1-", "-1", "1-2-3", "1-x", "-1-0"] {
            #expect(StreamID(text) == nil, "\(text)")
        }
        #expect(StreamID("1700000000000-7")?.description == "1700000000000-7")
        #expect(StreamID.zero.description == "0-0")
    }
}
