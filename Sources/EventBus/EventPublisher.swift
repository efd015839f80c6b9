import RedisClient
import StackContract

/// Appends events to a Redis stream and mirrors each on the Pub/Sub channel of the same name.
///
/// The stream is the durable path (consumer groups, redelivery); the `PUBLISH` mirror lets an operator
/// watch live traffic with `SUBSCRIBE market_data`, as the runbook does. Both go out in one pipeline.
/// The services publish through it, and so does cdbctl's event-flow probe: one wire form for both.
public actor EventPublisher {
    private let configuration: RedisConfiguration
    private let maxLength: Int?
    private var connection: RedisConnection?

    /// `maxLength` bounds each stream (`MAXLEN ~`), so a week-long run cannot fill Redis' memory; nil trims
    /// nothing (cdbctl's probe adds one entry to a stream whose bound is the services' to keep).
    public init(redis configuration: RedisConfiguration, maxLength: Int?) {
        self.configuration = configuration
        self.maxLength = maxLength
    }

    /// Publishes `payload` (JSON text) on `stream` under the field `BusStream.eventField`; returns the stream entry id.
    @discardableResult
    public func publish(_ stream: String, payload: String) async throws -> String {
        try await publish([(stream, payload)]).first ?? ""
    }

    /// Publishes several events in one round trip; returns their entry ids in order.
    @discardableResult
    public func publish(_ events: [(stream: String, payload: String)]) async throws -> [String] {
        guard !events.isEmpty else { return [] }
        var commands: [[any RedisArgument]] = []
        for event in events {
            commands.append(RedisConnection.xaddArguments(event.stream, maxLength: maxLength, fields: [(BusStream.eventField, event.payload)]))
            commands.append(["PUBLISH", event.stream, event.payload])
        }
        let replies: [RedisValue]
        do {
            replies = try await connected().pipeline(commands)
        } catch {
            connection = nil
            throw error
        }
        var ids: [String] = []
        for (index, reply) in replies.enumerated() where index % 2 == 0 {
            if case .error(let message) = reply {
                throw RedisError.server(endpoint: configuration.endpoint, command: "XADD", message: message)
            }
            ids.append(reply.string ?? "")
        }
        return ids
    }

    private func connected() async throws -> RedisConnection {
        if let connection { return connection }
        let fresh = try await RedisConnection(configuration)
        connection = fresh
        return fresh
    }
}
