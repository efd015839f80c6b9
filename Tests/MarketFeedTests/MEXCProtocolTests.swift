import Foundation
import MarketFeed
import SwiftProtobuf
import Testing
import TradingCore

@Suite struct MEXCProtocolTests {
    private let channel = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"

    @Test("channel names follow MEXC's protobuf aggregated-deals pattern")
    func channelNames() {
        #expect(MEXCProtocol.aggregatedDealsChannel(symbol: "BTCUSDT") == channel)
        #expect(MEXCProtocol.aggregatedDealsChannel(symbol: "ETHUSDT", interval: .ms10)
            == "spot@public.aggre.deals.v3.api.pb@10ms@ETHUSDT")
    }

    @Test("a subscription is acknowledged only by a reply echoing the channel")
    func acknowledgement() {
        #expect(MEXCProtocol.classify(reply: #"{"id":0,"code":0,"msg":"\#(channel)"}"#, pending: [channel])
            == .subscribed(channel: channel))
        #expect(MEXCProtocol.classify(reply: #"{"id":0,"code":0,"msg":"PONG"}"#, pending: [channel]) == .pong)
    }

    @Test("MEXC's Blocked! reply, with code 0 and a full-width colon, is a rejection naming the channel")
    func blocked() {
        let message = "Not Subscribed successfully! [\(channel)].  Reason： Blocked! "
        let reply = #"{"id":0,"code":0,"msg":"\#(message)"}"#
        #expect(MEXCProtocol.classify(reply: reply, pending: [channel]) == .rejected(channel: channel, message: message))
        #expect(MEXCProtocol.classify(reply: #"{"id":0,"code":1,"msg":"Invalid request"}"#, pending: [channel])
            == .rejected(channel: nil, message: "Invalid request"))
        #expect(MEXCProtocol.classify(reply: "not json", pending: [channel]) == .other("not json"))
    }

    @Test("subscription requests and pings are the JSON MEXC expects")
    func requests() {
        #expect(MEXCProtocol.subscriptionRequest(channels: [channel], id: 1)
            == #"{"id":1,"method":"SUBSCRIPTION","params":["\#(channel)"]}"#)
        #expect(MEXCProtocol.pingRequest == #"{"method":"PING"}"#)
    }

    @Test("a deals push decodes into one tick per deal with side, time and a trade-id based id")
    func dealsToTicks() throws {
        let bytes: [UInt8] = try FakeMEXCServer.push(channel: channel, connection: 1, deals: 2).serializedBytes()
        let push = try PushDataV3ApiWrapper(serializedBytes: bytes)
        let (ticks, problems) = MEXCProtocol.ticks(from: push)
        #expect(problems.isEmpty)
        #expect(ticks.count == 2)
        #expect(ticks.map(\.price) == [1_000.5, 1_001.5])
        #expect(ticks.map(\.quantity) == [0.01, 0.02])
        #expect(ticks.map(\.aggressorSide) == [.buy, .sell])
        #expect(ticks[0].eventTime == Date(timeIntervalSince1970: 1_736_409_765.1))
        #expect(ticks[0].id == EventID.derived(from: "mexc-tick", "BTCUSDT", "BTCUSDT-1-0"))
        #expect(ticks.allSatisfy { $0.symbol == "BTCUSDT" && $0.source == .mexc })
    }

    @Test("a deal with an unparseable price is dropped and reported, the others kept")
    func badDeal() {
        var push = FakeMEXCServer.push(channel: channel, connection: 1, deals: 2)
        push.publicAggreDeals.deals[0].price = "abc"
        push.clearSymbol()
        let (ticks, problems) = MEXCProtocol.ticks(from: push)
        #expect(ticks.count == 1)
        #expect(ticks.first?.symbol == "BTCUSDT")
        #expect(problems == ["deal 0 on \(channel): price 'abc' is not a positive number"])
    }

    @Test("fields a newer server adds (the item's field 6) are skipped, not errors")
    func unknownFields() throws {
        var bytes: [UInt8] = try FakeMEXCServer.push(channel: channel, connection: 1, deals: 0).serializedBytes()
        // Field 314 (length-delimited), holding one item with price "1", quantity "2" and field 6 = 1.
        let item: [UInt8] = [0x0A, 0x01, 0x31, 0x12, 0x01, 0x32, 0x30, 0x01]
        let body: [UInt8] = [0x0A, UInt8(item.count)] + item
        bytes += [0xD2, 0x13, UInt8(body.count)] + body
        let push = try PushDataV3ApiWrapper(serializedBytes: bytes)
        let (ticks, _) = MEXCProtocol.ticks(from: push)
        #expect(ticks.map(\.price) == [1])
    }

    @Test("symbols are spread over connections of at most 30 channels")
    func connectionPlan() throws {
        let symbols = (1...61).map { "SYM\($0)USDT" }
        let plan = MEXCFeed.Configuration(symbols: symbols).connectionPlan
        #expect(plan.map(\.count) == [30, 30, 1])
        #expect(plan.flatMap { $0 } == symbols.map { MEXCProtocol.aggregatedDealsChannel(symbol: $0) })
        #expect(MEXCFeed.Configuration(symbols: symbols, topicsPerConnection: 25).connectionPlan.count == 3)
    }

    @Test("an invalid MEXC configuration lists every problem")
    func invalidConfiguration() {
        let error = #expect(throws: MarketFeedError.self) {
            try MEXCFeed(.init(url: "http://x", symbols: [], topicsPerConnection: 31, pingInterval: .seconds(90)))
        }
        guard case .invalidConfiguration(_, let problems)? = error else {
            Issue.record("expected invalidConfiguration, got \(String(describing: error))")
            return
        }
        // url, symbols, topics, ping interval, and the idle timeout no longer above the ping interval.
        #expect(problems.count == 5)
    }
}
