import TradingServices

/// A stage's saved state in memory; a second stage built on the same store is a restart.
public actor InMemoryStateStore: StateStore {
    /// The state as last saved.
    public private(set) var saved: [UInt8]?
    /// How many saves there were.
    public private(set) var saves = 0

    public init(saved: [UInt8]? = nil) {
        self.saved = saved
    }

    public func load() async throws -> [UInt8]? { saved }

    public func save(_ state: [UInt8]) async throws {
        saved = state
        saves += 1
    }

    /// The saved state as text (JSON), empty when nothing was saved.
    public var savedText: String {
        String(decoding: saved ?? [], as: UTF8.self)
    }
}
