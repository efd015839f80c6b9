#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Primitives
import RedisClient
import StackContract

/// Appends events to Redis streams, mirrors each on the Pub/Sub channel of the same name, and saves the state
/// of the stage that decided them, all in one MULTI/EXEC.
///
/// The stream is the durable path (consumer groups, redelivery); the `PUBLISH` mirror lets an operator
/// watch live traffic with `SUBSCRIBE market_data`, as the runbook does. One transaction per commit: with AOF,
/// Redis writes a transaction whole or, after a crash mid-write, drops it whole when it loads the file, so a
/// stage's state and its events survive a restart together. The services publish through it, and so does
/// cdbctl's event-flow probe: one wire form for all.
public actor EventPublisher: EventSink, StateStore {
    private let configuration: RedisConfiguration
    private let maxLength: Int?
    private let retention: [String: Duration]
    private var connection: RedisConnection?

    /// `maxLength` bounds each stream (`MAXLEN ~`), so a week-long run cannot fill Redis' memory; nil trims
    /// nothing (cdbctl's probe adds one entry to a stream whose bound is the services' to keep). A stream in
    /// `retention` keeps its entries that long instead (`MINID ~`, by the time in their ids).
    public init(redis configuration: RedisConfiguration, maxLength: Int?, retention: [String: Duration] = [:]) {
        self.configuration = configuration
        self.maxLength = maxLength
        self.retention = retention
    }

    /// Publishes `payload` (JSON text) on `stream` under the field `BusStream.eventField`; returns the stream entry id.
    @discardableResult
    public func publish(_ stream: String, payload: String) async throws -> String {
        try await commit([(stream, payload)], state: nil).first ?? ""
    }

    @discardableResult
    public func commit(_ events: [(stream: String, payload: String)], state: SavedState?) async throws -> [String] {
        guard !events.isEmpty || state != nil else { return [] }
        var commands: [[any RedisArgument]] = [["MULTI"]]
        commands.reserveCapacity(events.count * 2 + 3)
        if let state { commands.append(["SET", state.key, state.bytes]) }
        let nowMilliseconds = Int64(Date().timeIntervalSince1970 * 1000)
        for event in events {
            let trim: StreamTrim? = retention[event.stream].map { .minID(StreamID(milliseconds: UInt64(max(0, nowMilliseconds - Int64($0.milliseconds))))) }
                ?? maxLength.map { .maxLength($0) }
            commands.append(RedisConnection.xaddArguments(event.stream, trim: trim, fields: [(BusStream.eventField, event.payload)]))
            commands.append(["PUBLISH", event.stream, event.payload])
        }
        commands.append(["EXEC"])
        let replies: [RedisValue]
        do {
            replies = try await connected().pipeline(commands)
        } catch {
            connection = nil
            throw error
        }
        // A command Redis refused to queue (out of memory, say) aborts the whole transaction: EXEC answers an error.
        for reply in replies.dropLast() {
            if case .error(let message) = reply { throw RedisError.server(endpoint: configuration.endpoint, command: "MULTI", message: message) }
        }
        guard case .array(var results) = replies.last else {
            if case .error(let message) = replies.last {
                throw RedisError.server(endpoint: configuration.endpoint, command: "EXEC", message: message)
            }
            throw RedisError.server(endpoint: configuration.endpoint, command: "EXEC", message: "transaction discarded")
        }
        if state != nil { results.removeFirst() }
        var ids: [String] = []
        ids.reserveCapacity(events.count)
        for (index, reply) in results.enumerated() where index % 2 == 0 {
            if case .error(let message) = reply {
                throw RedisError.server(endpoint: configuration.endpoint, command: "XADD", message: message)
            }
            ids.append(reply.string ?? "")
        }
        return ids
    }

    public func load(_ key: String) async throws -> [UInt8]? {
        do {
            return try await connected().command("GET", key).bytes
        } catch {
            connection = nil
            throw error
        }
    }

    private func connected() async throws -> RedisConnection {
        if let connection { return connection }
        let fresh = try await RedisConnection(configuration)
        connection = fresh
        return fresh
    }
}
