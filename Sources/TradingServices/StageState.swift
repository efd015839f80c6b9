#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import EventBus
import Logging
import RedisClient
import TradingCore

/// Reading and writing a stage's saved state: one wire form (the events' JSON) and one message for a state
/// that cannot be read.
enum StageState {
    /// The state saved under `key`, decoded; nil when none was saved. A state that does not decode stops the
    /// service: trading on from scratch would silently drop the account or repeat effects.
    static func load<State: Decodable>(
        _ type: State.Type, key: String, from store: any StateStore, decoder: JSONDecoder = EventCoding.decoder
    ) async throws -> State? {
        guard let saved = try await store.load(key) else { return nil }
        do {
            return try decoder.decode(State.self, from: Data(saved))
        } catch {
            throw StageStateError(key: key, reason: "the saved state is unreadable (\(error)); inspect it, or DEL the key to start afresh")
        }
    }

    /// Redis was unreachable when the stage started: it comes up anyway (its consumers wait for Redis and retry), and
    /// reads its state before its first batch. A state that is there but unreadable still stops the service.
    static func deferLoad(key: String, error: RedisError, logger: Logger) {
        logger.warning("Redis unreachable at start; the saved state is read before the first batch", metadata: [
            "key": "\(key)", "error": "\(error)"])
    }

    /// `state` ready to go with its commit.
    static func saved(_ state: some Encodable, key: String) throws -> SavedState {
        SavedState(key: key, bytes: Array(try EventCoding.encoder.encode(state)))
    }
}

/// A saved state the stage will not run on, with what the operator can do about it.
public struct StageStateError: Error, CustomStringConvertible, Sendable {
    public var key: String
    public var reason: String
    public var description: String { "Redis key \(key): \(reason)" }

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }
}
