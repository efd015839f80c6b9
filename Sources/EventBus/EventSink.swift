/// A stage's state as it stands after a batch, kept under `key` so a restarted stage resumes from it.
public struct SavedState: Sendable {
    public var key: String
    public var bytes: [UInt8]

    public init(key: String, bytes: [UInt8]) {
        self.key = key
        self.bytes = bytes
    }
}

/// Where a stage's effects go: the bus (`EventPublisher`), or an in-memory bus in the stage tests.
///
/// A batch's effect is its events and the state that produced them, committed together: all of it is stored
/// or none of it is. That is what makes a stage exactly-once across crashes: the saved state says which input
/// it has applied (per-stream watermarks), and it can never say so without the events being on the bus too.
/// A commit that throws may or may not have been stored (the reply can be lost after Redis executed it), so
/// the stage then rereads its state (`StateStore`) before it goes on, and the redelivered input is judged by that.
public protocol EventSink: Sendable {
    /// Appends `events` (JSON text) on their streams in order and, when given, replaces `state`, in one
    /// transaction; returns the events' entry ids in order.
    @discardableResult
    func commit(_ events: [(stream: String, payload: String)], state: SavedState?) async throws -> [String]
}

extension EventSink {
    /// Appends `events` in one transaction, with no state to save (a feed, cdbctl's probe).
    @discardableResult
    public func publish(_ events: [(stream: String, payload: String)]) async throws -> [String] {
        try await commit(events, state: nil)
    }
}

/// Where a stage reads the state its last commit saved: Redis (`EventPublisher`), or the in-memory bus in tests.
public protocol StateStore: Sendable {
    /// The state last committed under `key`; nil when none ever was.
    func load(_ key: String) async throws -> [UInt8]?
}
