#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TradingCore

/// How often MEXC aggregates deals on the `aggre.deals` channel.
public enum MEXCDealInterval: String, Sendable, Equatable, CaseIterable {
    /// One push per 100 ms per symbol (default; plenty for a paper trader).
    case ms100 = "100ms"
    /// One push per 10 ms per symbol.
    case ms10 = "10ms"
}

/// The parts of MEXC's spot v3 WebSocket protocol the feed speaks: channel names, JSON control
/// messages in text frames, and protobuf deal pushes in binary frames.
public enum MEXCProtocol {
    /// MEXC's public spot v3 market-data endpoint.
    public static let defaultURL = "wss://wbs-api.mexc.com/ws"
    /// MEXC ignores subscriptions beyond 30 per connection.
    public static let maxTopicsPerConnection = 30

    /// The aggregated-deals channel of `symbol`, e.g. `spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT`.
    public static func aggregatedDealsChannel(symbol: String, interval: MEXCDealInterval = .ms100) -> String {
        "spot@public.aggre.deals.v3.api.pb@\(interval.rawValue)@\(symbol)"
    }

    /// The keep-alive request; MEXC drops a connection after 60 s without traffic.
    package static let pingRequest = #"{"method":"PING"}"#

    /// `{"id":1,"method":"SUBSCRIPTION","params":["…"]}`; MEXC echoes no id (always 0), so acks
    /// are matched by channel name instead.
    package static func subscriptionRequest(channels: [String], id: Int) -> String {
        struct Request: Encodable {
            let id: Int
            let method: String
            let params: [String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding three plain fields cannot fail.
        let data = (try? encoder.encode(Request(id: id, method: "SUBSCRIPTION", params: channels))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// What a text frame from MEXC means.
    package enum ControlReply: Equatable {
        /// The answer to our `PING`.
        case pong
        /// `{"id":0,"code":0,"msg":"<channel>"}`: the channel is subscribed.
        case subscribed(channel: String)
        /// A refusal such as `Not Subscribed successfully! [<channel>].  Reason： Blocked! `
        /// (which still carries `code` 0), or any reply with a non-zero code; `channel` is the
        /// pending channel the message names, if any.
        case rejected(channel: String?, message: String)
        /// Anything else (logged, not acted on).
        case other(String)
    }

    /// Classifies a control reply while `pending` channels await their ack.
    package static func classify(reply text: String, pending: Set<String>) -> ControlReply {
        guard let reply = try? JSONDecoder().decode(Reply.self, from: Data(text.utf8)) else {
            return .other(text)
        }
        let message = reply.msg ?? ""
        let code = reply.code ?? 0
        if message == "PONG" { return .pong }
        if code == 0, pending.contains(message) { return .subscribed(channel: message) }
        // Only an exact echo of the channel means success; MEXC reports refusals with code 0.
        let named = pending.sorted().first { message.contains($0) }
        if code != 0 || named != nil || message.hasPrefix("Not Subscribed") || message.contains("Blocked") {
            return .rejected(channel: named, message: message)
        }
        return .other(text)
    }

    /// `{"id":0,"code":0,"msg":"…"}`; `code` is tolerated as a string too.
    private struct Reply: Decodable {
        let code: Int?
        let msg: String?

        private enum Keys: String, CodingKey {
            case code, msg
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            msg = try? container.decodeIfPresent(String.self, forKey: .msg)
            if let number = try? container.decodeIfPresent(Int.self, forKey: .code) {
                code = number
            } else {
                code = (try? container.decodeIfPresent(String.self, forKey: .code)).flatMap { Int($0) }
            }
        }
    }

    /// The ticks in a `publicAggreDeals` push, and one problem line per deal that had to be dropped.
    package static func ticks(from push: PushDataV3ApiWrapper) -> (ticks: [MarketTick], problems: [String]) {
        guard case .publicAggreDeals(let body)? = push.body else { return ([], []) }
        let symbol = push.hasSymbol && !push.symbol.isEmpty
            ? push.symbol
            : String(push.channel.split(separator: "@").last ?? "")
        var ticks: [MarketTick] = []
        var problems: [String] = []
        ticks.reserveCapacity(body.deals.count)
        for (index, deal) in body.deals.enumerated() {
            guard let price = Double(deal.price), price.isFinite, price > 0 else {
                problems.append("deal \(index) on \(push.channel): price '\(deal.price)' is not a positive number")
                continue
            }
            guard let quantity = Double(deal.quantity), quantity.isFinite, quantity >= 0 else {
                problems.append("deal \(index) on \(push.channel): quantity '\(deal.quantity)' is not a number")
                continue
            }
            let side: OrderSide? = switch deal.tradeType {
            case 1: .buy
            case 2: .sell
            default: nil
            }
            // Trade ids make tick ids stable across reconnects; older servers send none, and then
            // everything that distinguishes one deal from another goes into the id.
            let id = deal.tradeID.isEmpty
                ? EventID.derived(
                    from: "mexc-tick", symbol, String(deal.time), deal.price, deal.quantity,
                    String(deal.tradeType), String(push.sendTime), String(index)
                )
                : EventID.derived(from: "mexc-tick", symbol, deal.tradeID)
            ticks.append(MarketTick(
                id: id,
                symbol: symbol,
                price: price,
                quantity: quantity,
                aggressorSide: side,
                eventTime: Date(timeIntervalSince1970: Double(deal.time) / 1_000),
                source: .mexc
            ))
        }
        return (ticks, problems)
    }
}
