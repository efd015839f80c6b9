/// The ids most recently handled, so a redelivered event is recognised and not acted on twice.
public struct RecentIDs: Codable, Sendable, Equatable {
    private var order: [String] = []
    private var members: Set<String> = []
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    // Saved as the ordered ids only: the set is rebuilt on load, so cdb_risk's saved state carries each
    // id once (it was half the state's size and encoding time). States saved with `members` still load.
    private enum CodingKeys: String, CodingKey {
        case order, capacity
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        capacity = try container.decode(Int.self, forKey: .capacity)
        order = try container.decode([String].self, forKey: .order)
        members = Set(order)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(order, forKey: .order)
        try container.encode(capacity, forKey: .capacity)
    }

    public func contains(_ id: String) -> Bool { members.contains(id) }

    /// Records `id`; returns false when it was already there (a duplicate).
    public mutating func insert(_ id: String) -> Bool {
        guard members.insert(id).inserted else { return false }
        order.append(id)
        if order.count > capacity {
            let evicted = order.count - capacity
            for old in order.prefix(evicted) { members.remove(old) }
            order.removeFirst(evicted)
        }
        return true
    }
}
