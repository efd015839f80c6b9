import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import MarketFeed
import NIOCore
import SwiftProtobuf

/// A local stand-in for MEXC's spot v3 WebSocket on 127.0.0.1 and a free port: JSON control
/// messages in text frames, protobuf `PushDataV3ApiWrapper` deal pushes in binary frames.
final class FakeMEXCServer: Sendable {
    /// How the server answers.
    struct Behaviour: Sendable {
        enum SubscriptionReply: Sendable {
            /// `{"id":0,"code":0,"msg":"<channel>"}`, then one push of deals.
            case acknowledge
            /// MEXC's refusal, verbatim in form (code 0, full-width colon, trailing space).
            case block
            /// No answer at all.
            case ignore
        }

        var subscriptionReply: SubscriptionReply = .acknowledge
        /// Deals in the push that follows each acknowledged subscription.
        var dealsPerChannel = 3
        /// Connections (numbered from 1) that the server closes right after its first push.
        var closeAfterPushOn: Set<Int> = []
        /// Send an undecodable binary frame before each push.
        var sendGarbageBeforePush = false
        /// Answer `{"method":"PING"}` with PONG.
        var answerPings = true
    }

    /// What the server saw.
    struct Record: Sendable {
        var connections = 0
        /// Channels subscribed, per connection number.
        var subscriptions: [Int: [String]] = [:]
        var pings = 0
        /// Every text frame received, verbatim.
        var requests: [String] = []
    }

    let behaviour: Behaviour
    let record = Guarded(Record())
    private let serverTask = Guarded<Task<Void, any Error>?>(nil)

    init(_ behaviour: Behaviour = .init()) {
        self.behaviour = behaviour
    }

    /// Starts listening and returns the `ws://` URL.
    func start() async throws -> String {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "fake-mexc")
        logger.logLevel = .critical
        let app = Application(
            router: Router(),
            server: .http1WebSocketUpgrade { _, _, _ in
                .upgrade([:]) { inbound, outbound, _ in
                    try await self.serve(inbound: inbound, outbound: outbound)
                }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let task = Task { try await app.run() }
        serverTask.withLock { $0 = task }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw TestTimeout(seconds: 0, what: "the fake MEXC server start")
        }
        return "ws://127.0.0.1:\(port)/ws"
    }

    /// Stops the server and waits for it.
    func stop() async {
        let task = serverTask.withLock { $0 }
        task?.cancel()
        _ = await task?.result
    }

    private struct Request: Decodable {
        let method: String
        let params: [String]?
    }

    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let connection = record.withLock { record in
            record.connections += 1
            return record.connections
        }
        for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .text(let text) = message else { continue }
            record.withLock { $0.requests.append(text) }
            guard let request = try? JSONDecoder().decode(Request.self, from: Data(text.utf8)) else { continue }
            switch request.method {
            case "PING":
                record.withLock { $0.pings += 1 }
                if behaviour.answerPings {
                    try await outbound.write(.text(#"{"id":0,"code":0,"msg":"PONG"}"#))
                }
            case "SUBSCRIPTION":
                for channel in request.params ?? [] {
                    record.withLock { $0.subscriptions[connection, default: []].append(channel) }
                    switch behaviour.subscriptionReply {
                    case .acknowledge:
                        try await outbound.write(.text(#"{"id":0,"code":0,"msg":"\#(channel)"}"#))
                        if behaviour.sendGarbageBeforePush {
                            try await outbound.write(.binary(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF])))
                        }
                        let push = Self.push(channel: channel, connection: connection, deals: behaviour.dealsPerChannel)
                        let bytes: [UInt8] = try push.serializedBytes()
                        try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                        if behaviour.closeAfterPushOn.contains(connection) { return }
                    case .block:
                        try await outbound.write(.text(
                            #"{"id":0,"code":0,"msg":"Not Subscribed successfully! [\#(channel)].  Reason： Blocked! "}"#
                        ))
                    case .ignore:
                        break
                    }
                }
            default:
                break
            }
        }
    }

    /// The deals the server pushes: deal `k` on connection `c` trades at `c × 1000 + k + 0.5`.
    static func push(channel: String, connection: Int, deals: Int) -> PushDataV3ApiWrapper {
        let symbol = String(channel.split(separator: "@").last ?? "")
        var body = PublicAggreDealsV3Api()
        body.eventType = "spot@public.aggre.deals.v3.api.pb@100ms"
        body.deals = (0..<deals).map { k in
            var deal = PublicAggreDealsV3ApiItem()
            deal.price = expectedPrice(connection: connection, deal: k).description
            deal.quantity = "0.0\(k + 1)"
            deal.tradeType = k % 2 == 0 ? 1 : 2
            deal.time = expectedMilliseconds(connection: connection, deal: k)
            deal.tradeID = tradeID(symbol: symbol, connection: connection, deal: k)
            return deal
        }
        var push = PushDataV3ApiWrapper()
        push.channel = channel
        push.symbol = symbol
        push.sendTime = 1_736_409_765_052
        push.publicAggreDeals = body
        return push
    }

    static func expectedPrice(connection: Int, deal: Int) -> Double {
        Double(connection * 1_000 + deal) + 0.5
    }

    static func expectedMilliseconds(connection: Int, deal: Int) -> Int64 {
        1_736_409_765_000 + Int64(connection * 100 + deal)
    }

    static func tradeID(symbol: String, connection: Int, deal: Int) -> String {
        "\(symbol)-\(connection)-\(deal)"
    }
}
