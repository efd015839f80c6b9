import Primitives
import RedisClient

/// How far a stage has applied each stream it reads, saved with its state in the same commit as the events
/// those entries caused. A consumer group hands one consumer its entries in id order, and redelivers the ones
/// not acknowledged; an entry at or below its stream's position was applied by a committed batch, so it is
/// recognised and skipped, whatever the crash between commit and acknowledgement.
public struct AppliedPositions: Codable, Sendable, Equatable {
    private var positions: [String: StreamID] = [:]

    public init() {}

    /// Whether `entry` of `stream` is new (then it becomes the stream's position); false for one already applied.
    /// An id that is not a stream id (a hand-made test entry) is always new.
    public mutating func admit(_ entry: StreamEntry, of stream: String) -> Bool {
        guard let id = StreamID(entry.id) else { return true }
        if let applied = positions[stream], id <= applied { return false }
        positions[stream] = id
        return true
    }

    /// The position of `stream`, nil before its first entry.
    public func position(of stream: String) -> StreamID? { positions[stream] }

    public init(from decoder: any Decoder) throws {
        let texts = try decoder.singleValueContainer().decode([String: String].self)
        for (stream, text) in texts {
            guard let id = StreamID(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a stream id"))
            }
            positions[stream] = id
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(positions.mapValues(\.description))
    }
}
