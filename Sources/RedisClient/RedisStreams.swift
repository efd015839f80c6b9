import Primitives

/// One entry of a Redis stream: its id and its field/value pairs.
public struct StreamEntry: Sendable, Equatable {
    public var id: String
    public var fields: [String: [UInt8]]

    public init(id: String, fields: [String: [UInt8]]) {
        self.id = id
        self.fields = fields
    }

    /// A field's value as text.
    public subscript(field: String) -> String? {
        fields[field].map { String(decoding: $0, as: UTF8.self) }
    }
}

/// What `XPENDING stream group` reports: delivered but not yet acknowledged entries.
public struct PendingSummary: Sendable, Equatable {
    public var count: Int
    public var smallestID: String?
    public var largestID: String?
    public var consumers: [String: Int]
}

/// What `XAUTOCLAIM` hands over: entries idle too long at another consumer, now owned by the caller.
public struct AutoClaimResult: Sendable, Equatable {
    /// Where the next `XAUTOCLAIM` call continues; `0-0` once the whole pending list was scanned.
    public var nextStart: String
    public var entries: [StreamEntry]
    /// Pending ids whose entries were trimmed from the stream meanwhile (Redis 7); they are dropped from the list.
    public var deletedIDs: [String]
}

/// A consumer group as `XINFO GROUPS` describes it.
public struct ConsumerGroupInfo: Sendable, Equatable {
    public var name: String
    public var consumers: Int
    public var pending: Int
    public var lastDeliveredID: String
    /// Entries not yet delivered to the group (Redis 7); `nil` when the server cannot tell.
    public var lag: Int?
    /// How many entries the group was delivered over its life (Redis 7's `entries-read`); `nil` when unknown.
    public var entriesRead: Int? = nil
}

/// How an `XADD` trims its stream, approximately (`~`: whole nodes, cheap): to a length, or to entries newer than an id.
public enum StreamTrim: Sendable, Equatable {
    case maxLength(Int)
    /// Entries older than this id (by their time) go: a bound in time rather than in count.
    case minID(StreamID)
}

extension RedisConnection {
    /// `XADD stream MAXLEN ~ maxLength * field value …`; returns the new entry's id.
    @discardableResult
    public func xadd(_ stream: String, maxLength: Int? = nil, fields: [(String, any RedisArgument)]) throws(RedisError) -> String {
        try command(Self.xaddArguments(stream, trim: maxLength.map { .maxLength($0) }, fields: fields)).string ?? ""
    }

    /// The argument list of an `XADD`, for pipelining several.
    public static func xaddArguments(_ stream: String, trim: StreamTrim?, fields: [(String, any RedisArgument)]) -> [any RedisArgument] {
        var arguments: [any RedisArgument] = []
        arguments.reserveCapacity(6 + fields.count * 2)
        arguments.append("XADD")
        arguments.append(stream)
        switch trim {
        case .maxLength(let length):
            arguments += ["MAXLEN", "~", length]
        case .minID(let id):
            arguments += ["MINID", "~", id.description]
        case nil:
            break
        }
        arguments.append("*")
        for (name, value) in fields {
            arguments.append(name)
            arguments.append(value)
        }
        return arguments
    }

    /// `XGROUP CREATE stream group start MKSTREAM`; returns false when the group already existed.
    @discardableResult
    public func createGroup(_ stream: String, group: String, startID: String = "$") throws(RedisError) -> Bool {
        do {
            try command("XGROUP", "CREATE", stream, group, startID, "MKSTREAM")
            return true
        } catch .server(_, _, let message) where message.hasPrefix("BUSYGROUP") {
            return false
        }
    }

    /// `XREADGROUP GROUP g c COUNT n BLOCK ms STREAMS s… >`: new entries for this consumer, by stream.
    /// Pass `startID: "0"` to re-read this consumer's own pending entries instead.
    public func readGroup(
        group: String, consumer: String, streams: [String], count: Int, block: Duration?, startID: String = ">"
    ) throws(RedisError) -> [(stream: String, entries: [StreamEntry])] {
        var arguments: [any RedisArgument] = ["XREADGROUP", "GROUP", group, consumer, "COUNT", count]
        if let block { arguments += ["BLOCK", Int(block.milliseconds)] }
        arguments.append("STREAMS")
        arguments += streams.map { $0 as any RedisArgument }
        arguments += streams.map { _ in startID as any RedisArgument }
        let reply = try command(arguments, extraTimeout: block ?? .zero)
        guard let perStream = reply.array else { return [] }  // nil: the block time passed with nothing new
        var result: [(String, [StreamEntry])] = []
        for item in perStream {
            guard let pair = item.array, pair.count == 2, let name = pair[0].string, let entries = pair[1].array else {
                throw .unexpectedReply(command: "XREADGROUP", reply: item.description)
            }
            result.append((name, try entries.map(Self.entry)))
        }
        return result
    }

    /// `XACK stream group id…`; returns how many were acknowledged.
    @discardableResult
    public func ack(_ stream: String, group: String, ids: [String]) throws(RedisError) -> Int {
        guard !ids.isEmpty else { return 0 }
        let arguments: [any RedisArgument] = ["XACK", stream, group] + ids.map { $0 as any RedisArgument }
        return Int(try command(arguments).integer ?? 0)
    }

    /// `XPENDING stream group`: the summary form.
    public func pending(_ stream: String, group: String) throws(RedisError) -> PendingSummary {
        let reply = try command("XPENDING", stream, group)
        guard let parts = reply.array, parts.count == 4 else { throw .unexpectedReply(command: "XPENDING", reply: reply.description) }
        var consumers: [String: Int] = [:]
        for consumer in parts[3].array ?? [] {
            if let pair = consumer.array, pair.count == 2, let name = pair[0].string, let count = pair[1].integer {
                consumers[name] = Int(count)
            }
        }
        return PendingSummary(
            count: Int(parts[0].integer ?? 0), smallestID: parts[1].string, largestID: parts[2].string, consumers: consumers)
    }

    /// `XAUTOCLAIM stream group consumer min-idle start COUNT n`: takes over entries another consumer left pending.
    public func autoClaim(
        _ stream: String, group: String, consumer: String, minIdle: Duration, start: String = "0-0", count: Int = 100
    ) throws(RedisError) -> AutoClaimResult {
        let idle = Int(minIdle.milliseconds)
        let reply = try command("XAUTOCLAIM", stream, group, consumer, idle, start, "COUNT", count)
        // Redis 6.2 answers [next, entries]; Redis 7 adds the ids of entries deleted meanwhile.
        guard let parts = reply.array, parts.count >= 2, let next = parts[0].string, let entries = parts[1].array else {
            throw .unexpectedReply(command: "XAUTOCLAIM", reply: reply.description)
        }
        // A pending id whose entry was trimmed comes back as a nil entry in Redis 6.2.
        let live = entries.filter { !$0.isNull }
        let deleted = parts.count > 2 ? (parts[2].array ?? []).compactMap(\.string) : []
        return AutoClaimResult(nextStart: next, entries: try live.map(Self.entry), deletedIDs: deleted)
    }

    /// `XINFO GROUPS stream`, or an empty list when the stream does not exist.
    public func groups(of stream: String) throws(RedisError) -> [ConsumerGroupInfo] {
        let reply: RedisValue
        do {
            reply = try command("XINFO", "GROUPS", stream)
        } catch .server(_, _, let message) where message.contains("no such key") {
            return []
        }
        return (reply.array ?? []).map { group in
            let fields = Self.pairs(group)
            return ConsumerGroupInfo(
                name: fields["name"]?.string ?? "",
                consumers: Int(fields["consumers"]?.integer ?? 0),
                pending: Int(fields["pending"]?.integer ?? 0),
                lastDeliveredID: fields["last-delivered-id"]?.string ?? "",
                lag: fields["lag"]?.integer.map(Int.init),
                entriesRead: fields["entries-read"]?.integer.map(Int.init))
        }
    }

    /// `XRANGE stream start end COUNT count`: entries in id order; `start` may be exclusive (`(id`).
    public func range(_ stream: String, from start: String = "-", to end: String = "+", count: Int) throws(RedisError) -> [StreamEntry] {
        try (command("XRANGE", stream, start, end, "COUNT", count).array ?? []).map(Self.entry)
    }

    /// `XREVRANGE stream end start COUNT count`: entries newest first; `end` may be exclusive (`(id`) to page on.
    public func reverseRange(_ stream: String, from end: String = "+", to start: String = "-", count: Int) throws(RedisError) -> [StreamEntry] {
        try (command("XREVRANGE", stream, end, start, "COUNT", count).array ?? []).map(Self.entry)
    }

    /// Entries of `stream` that `group` was never delivered and that are gone (trimmed by the stream's bound or
    /// deleted); nil when Redis cannot tell (no `entries-added` before Redis 7, or a group whose read count is unknown).
    ///
    /// Whatever is gone had an id below the stream's first entry. A group delivered up to or past that entry lost
    /// nothing; one delivered less lost every removed entry it had not read: all it had read was among them.
    public func lostUnread(_ stream: String, group: ConsumerGroupInfo) throws(RedisError) -> Int? {
        guard let removed = try removedEntries(of: stream) else { return nil }
        guard removed > 0 else { return 0 }
        let delivered = StreamID(group.lastDeliveredID) ?? .zero
        if let first = try firstEntryID(of: stream), delivered >= first { return 0 }
        // A group never delivered anything has read none; Redis leaves its counter empty.
        guard let read = group.entriesRead ?? (delivered == .zero ? 0 : nil) else { return nil }
        return max(0, removed - read)
    }

    /// How many entries were removed from `stream` over its life (trimmed or deleted: Redis 7's `entries-added` less
    /// its length); nil before Redis 7.
    public func removedEntries(of stream: String) throws(RedisError) -> Int? {
        let info = Self.pairs(try command("XINFO", "STREAM", stream))
        guard let added = info["entries-added"]?.integer, let length = info["length"]?.integer else { return nil }
        return Int(added - length)
    }

    /// Trims `stream` (`XTRIM MINID ~`) to what is still needed: every entry some consumer group has not been
    /// delivered or has not acknowledged, and every entry at or after `floor` (a margin kept regardless). Returns how
    /// many entries went. Approximate trimming removes whole nodes only, so it never reaches a needed entry.
    @discardableResult
    public func trimBehindGroups(_ stream: String, keepingFrom floor: StreamID) throws(RedisError) -> Int {
        var cut = floor
        for group in try groups(of: stream) {
            let oldestPending = try pending(stream, group: group.name).smallestID.flatMap { StreamID($0) }
            let delivered = StreamID(group.lastDeliveredID) ?? .zero
            let firstUndelivered = StreamID(milliseconds: delivered.milliseconds, sequence: delivered.sequence &+ 1)
            cut = min(cut, oldestPending ?? firstUndelivered)
        }
        return Int(try command("XTRIM", stream, "MINID", "~", cut.description).integer ?? 0)
    }

    /// The id of `stream`'s oldest entry now; nil when it is empty.
    public func firstEntryID(of stream: String) throws(RedisError) -> StreamID? {
        guard case .array(let first)? = Self.pairs(try command("XINFO", "STREAM", stream))["first-entry"] else { return nil }
        return first.first?.string.flatMap { StreamID($0) }
    }

    /// `XGROUP SETID stream group id`: the group is delivered everything after `id` again.
    public func setGroupID(_ stream: String, group: String, to id: String) throws(RedisError) {
        try command("XGROUP", "SETID", stream, group, id)
    }

    /// `XLEN stream`.
    public func length(of stream: String) throws(RedisError) -> Int {
        Int(try command("XLEN", stream).integer ?? 0)
    }

    /// `PUBLISH channel message`; returns how many subscribers got it.
    @discardableResult
    public func publish(_ channel: String, _ message: any RedisArgument) throws(RedisError) -> Int {
        Int(try command("PUBLISH", channel, message).integer ?? 0)
    }

    /// `INFO [section]` as key/value pairs.
    public func info(_ section: String? = nil) throws(RedisError) -> [String: String] {
        let arguments: [any RedisArgument] = section.map { ["INFO", $0] } ?? ["INFO"]
        let text = try command(arguments).string ?? ""
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    static func entry(_ value: RedisValue) throws(RedisError) -> StreamEntry {
        guard let pair = value.array, pair.count == 2, let id = pair[0].string else {
            throw .unexpectedReply(command: "stream entry", reply: value.description)
        }
        var fields: [String: [UInt8]] = [:]
        let flat = pair[1].array ?? []
        var index = 0
        while index + 1 < flat.count {
            if let name = flat[index].string { fields[name] = flat[index + 1].bytes ?? [] }
            index += 2
        }
        return StreamEntry(id: id, fields: fields)
    }

    /// Reads a flat `[key, value, key, value …]` reply as a dictionary.
    static func pairs(_ value: RedisValue) -> [String: RedisValue] {
        let flat = value.array ?? []
        var result: [String: RedisValue] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let key = flat[index].string { result[key] = flat[index + 1] }
            index += 2
        }
        return result
    }
}
