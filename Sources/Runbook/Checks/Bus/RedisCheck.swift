import EventBus
import Foundation
import PlainText
import Primitives
import RedisClient
import StackContract
import TradingCore
import YAMLParser

/// `type: redis`: one of the bus checks, chosen by `op`.
public enum RedisCheck: CheckType {
    case ping
    /// Every consumer group of `streams` has at most `maxLag` entries waiting and nothing stuck pending.
    case lag(streams: [String], maxLag: Int)
    /// A tagged probe tick, followed hop by hop: stored, mirrored on pub/sub, delivered to and acknowledged by every group.
    case eventFlow(stream: String)
    /// New entries keep arriving on `stream` (its last id moves within `within`).
    case streamAdvances(stream: String, within: Duration)
    /// Deletes the saved state of `service` (its key in `SavedStateKeys`), so it starts afresh: a destructive step,
    /// run only while the service is stopped (else its next commit would write its state back).
    case deleteState(service: String)
    /// Redis has a `maxmemory` and uses less than `maxPct` % of it (noeviction: at the bound every write fails).
    case memory(maxPct: Double)
    /// `group` (the writer) reads every persisted stream before the stream's bound trims it: nothing was trimmed
    /// unread, and it is less than `maxPct` % of `STREAM_MAXLEN` behind.
    case retention(group: String, maxPct: Double)

    public static let typeName = "redis"
    public static let keys = ["op", "stream", "streams", "max_lag", "within", "service", "group", "max_pct"]

    public static func decode(from reader: CheckReader) -> RedisCheck? {
        let operations = ["ping", "lag", "event_flow", "stream_advances", "delete_state", "memory", "retention"]
        guard let op = reader.required("op", as: String.self) else { return nil }
        switch op {
        case "ping":
            return .ping
        case "lag":
            return .lag(streams: reader.strings("streams") ?? [], maxLag: reader.optional("max_lag", as: Int.self) ?? 1000)
        case "event_flow":
            return .eventFlow(stream: reader.optional("stream", as: String.self) ?? "market_data")
        case "stream_advances":
            return .streamAdvances(stream: reader.optional("stream", as: String.self) ?? "market_data",
                                   within: reader.optional("within", as: Duration.self) ?? .seconds(30))
        case "delete_state":
            guard let service = reader.required("service", as: String.self) else { return nil }
            guard SavedStateKeys.key(of: service) != nil else {
                reader.error("\(reader.what).service: '\(service)' keeps no saved state (one of cdb_core, cdb_risk, cdb_execution)", at: reader["service"]!.mark)
                return nil
            }
            return .deleteState(service: service)
        case "memory":
            return .memory(maxPct: percent(reader) ?? 80)
        case "retention":
            return .retention(group: reader.optional("group", as: String.self) ?? "cdb_db_writer", maxPct: percent(reader) ?? 80)
        default:
            var message = "\(reader.what).op: unknown redis check '\(op)'"
            if let suggestion = closestMatch(to: op, among: operations) { message += " (did you mean '\(suggestion)'?)" }
            reader.error(message, at: reader["op"]!.mark)
            return nil
        }
    }

    /// `max_pct`, a percentage above 0 and at most 100.
    private static func percent(_ reader: CheckReader) -> Double? {
        guard let value = reader.optional("max_pct", as: Double.self) else { return nil }
        guard value > 0, value <= 100 else {
            reader.error("\(reader.what).max_pct: expected a percentage above 0 and at most 100, got \(value)", at: reader["max_pct"]!.mark)
            return nil
        }
        return value
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        try await context.redis(self, timeout: context.step.timeout)
    }

    public var deletesData: Bool {
        if case .deleteState = self { return true }
        return false
    }
}

extension CheckContext {
    fileprivate func redis(_ check: RedisCheck, timeout: Duration) async throws -> CheckOutcome {
        let connection = try await RedisConnection(stack.redis)
        defer { Task { await connection.close() } }
        switch check {
        case .ping:
            let start = ContinuousClock.now
            let reply = try await connection.command("PING")
            return reply == .status("PONG") ? .pass("\(stack.redis.endpoint) PONG in \((ContinuousClock.now - start).secondsText)")
                : .fail("\(stack.redis.endpoint) answered \(reply) to PING")
        case .lag(let streams, let maxLag):
            var problems: [String] = []
            var figures: [String: Double] = [:]
            var groupsSeen = 0
            for stream in streams.isEmpty ? BusStream.allCases.map(\.rawValue) : streams {
                for group in try await connection.groups(of: stream) {
                    groupsSeen += 1
                    let lag = group.lag ?? 0
                    figures["lag.\(stream).\(group.name)"] = Double(lag)
                    figures["pending.\(stream).\(group.name)"] = Double(group.pending)
                    if lag > maxLag { problems.append("\(group.name) is \(lag) entries behind on \(stream) (allowed \(maxLag))") }
                    if group.pending > maxLag { problems.append("\(group.name) holds \(group.pending) unacknowledged entries of \(stream)") }
                }
            }
            if groupsSeen == 0 { return .fail("no consumer group on any stream: are the services running against \(stack.redis.endpoint)?") }
            return problems.isEmpty ? .pass("\(groupsSeen) consumer groups within \(maxLag) entries", figures: figures) : .fail(problems.joined(separator: "; "), figures: figures)
        case .eventFlow(let stream):
            return try await eventFlow(stream: stream, connection: connection, timeout: timeout)
        case .streamAdvances(let stream, let within):
            let first = try await lastID(of: stream, connection)
            let deadline = ContinuousClock.now + within
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(250))
                let current = try await lastID(of: stream, connection)
                if current != first { return .pass("\(stream) advanced from \(first ?? "empty") to \(current ?? "?")") }
            }
            return .fail("no new entry on \(stream) within \(within.secondsText) (last id \(first ?? "none")): is the feed running?")
        case .deleteState(let service):
            // Decoding admitted only services with a key.
            let key = SavedStateKeys.key(of: service) ?? ""
            let size = try await connection.command("STRLEN", key).integer ?? 0
            let deleted = try await connection.command("DEL", key).integer ?? 0
            return .pass(deleted == 0 ? "\(key) was not there: \(service) starts afresh" : "deleted \(key) (\(size) bytes): \(service) starts afresh")
        case .memory(let maxPct):
            let memory = try await connection.info("memory")
            let used = Double(memory["used_memory"] ?? "") ?? 0
            let limit = Double(memory["maxmemory"] ?? "") ?? 0
            guard limit > 0 else {
                return .fail("\(stack.redis.endpoint) has no maxmemory: only the container's limit bounds it, and an AOF rewrite's fork can pass it (REDIS_MAXMEMORY)")
            }
            let pct = used / limit * 100
            let text = "\(stack.redis.endpoint) uses \(Self.megabytes(used)) of maxmemory \(Self.megabytes(limit)) (\(pct.fixed(1)) %)"
            let figures = ["used_memory_bytes": used, "maxmemory_bytes": limit, "used_pct": pct]
            return pct < maxPct ? .pass(text, figures: figures)
                : .fail(text + ", at or past \(maxPct.fixed(0)) %: at 100 % every write fails (noeviction); shorten MARKET_DATA_RETENTION_HOURS or raise REDIS_MAXMEMORY", figures: figures)
        case .retention(let group, let maxPct):
            let bound = Double(EnvironmentReader(environment).read(.streamMaxLength))
            var problems: [String] = []
            var read: [String] = []
            var figures: [String: Double] = [:]
            for stream in BusStream.persisted.map(\.rawValue) {
                guard let info = try await connection.groups(of: stream).first(where: { $0.name == group }) else {
                    problems.append("\(group) does not read \(stream)")
                    continue
                }
                if let lost = try await connection.lostUnread(stream, group: info), lost > 0 {
                    problems.append("\(stream): \(lost) entries were trimmed before \(group) read them (lost to the bus' bound)")
                }
                // Redis cannot count the lag after a group was set back mid-stream (a restore's replay): said, not taken as 0.
                guard let lag = info.lag.map(Double.init) else {
                    read.append("\(stream) unknown")
                    continue
                }
                figures["lag.\(stream)"] = lag
                if lag >= bound * maxPct / 100 {
                    problems.append("\(stream): \(group) is \(Int(lag)) entries behind, \((lag / bound * 100).fixed(0)) % of STREAM_MAXLEN \(Int(bound)): the bound trims what it has not stored")
                }
                read.append("\(stream) \(Int(lag))")
            }
            return problems.isEmpty ? .pass("\(group) keeps up with the bus' bound (entries behind: \(read.joined(separator: ", ")))", figures: figures)
                : .fail(problems.joined(separator: "; "), figures: figures)
        }
    }

    fileprivate static func megabytes(_ bytes: Double) -> String {
        "\((bytes / 1_048_576).fixed(1)) MB"
    }

    fileprivate func lastID(of stream: String, _ connection: RedisConnection) async throws -> String? {
        let reply = try await connection.command("XREVRANGE", stream, "+", "-", "COUNT", "1")
        guard case .array(let entries) = reply, case .array(let entry)? = entries.first, case .bulk(let id)? = entry.first else { return nil }
        return String(decoding: id, as: UTF8.self)
    }

    /// Seed §3.1 step 3, automated: a tagged probe tick is stored, seen on the pub/sub mirror, and then
    /// delivered to and acknowledged by every consumer group of the stream.
    fileprivate func eventFlow(stream: String, connection: RedisConnection, timeout: Duration) async throws -> CheckOutcome {
        // Its own deadline ends well inside the step's, so a slow hop is reported by name, not as a bare timeout.
        let deadline = ContinuousClock.now + timeout - max(.seconds(1), timeout / 4)
        let groups = try await connection.groups(of: stream)
        guard !groups.isEmpty else { return .fail("no consumer group reads \(stream): is cdb_core running?") }
        let probeID = "probe-\(UUID().uuidString.prefix(8).lowercased())"
        let tick = MarketTick(id: probeID, symbol: "CDBPROBE", price: 1, quantity: 0, eventTime: Date(), source: .probe)
        let subscription = try await RedisSubscription(stack.redis, channels: [stream])
        defer { subscription.close() }
        let start = ContinuousClock.now
        // Published the way the services publish (entry field, XADD and PUBLISH in one pipeline); trims nothing.
        let entryID = try await EventPublisher(redis: stack.redis, maxLength: nil).publish(stream, payload: tick.busJSON())
        var hops = ["stored as \(entryID)"]
        let mirrored = await withDeadline(.seconds(3), fallback: false) {
            do {
                for try await message in subscription.messages where message.text.contains(probeID) { return true }
            } catch {}
            return false
        }
        guard mirrored else { return .fail("probe \(probeID) stored as \(entryID) but never seen on the \(stream) pub/sub channel") }
        hops.append("pub/sub mirror in \((ContinuousClock.now - start).secondsText)")
        let probeEntry = StreamID(entryID) ?? .zero
        var waiting = Set(groups.map(\.name))
        while !waiting.isEmpty, ContinuousClock.now < deadline {
            for group in try await connection.groups(of: stream) where waiting.contains(group.name) {
                let delivered = (StreamID(group.lastDeliveredID) ?? .zero) >= probeEntry
                let pending = try await connection.pending(stream, group: group.name)
                let stillPending = pending.smallestID.flatMap { StreamID($0) }.map { probeEntry >= $0 } ?? false
                if delivered && !stillPending {
                    waiting.remove(group.name)
                    hops.append("\(group.name) acknowledged in \((ContinuousClock.now - start).secondsText)")
                }
            }
            if !waiting.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard waiting.isEmpty else {
            return .fail("probe \(probeID) (\(entryID)) not acknowledged by \(waiting.sorted().joined(separator: ", ")) within \(timeout.secondsText); " + hops.joined(separator: ", "))
        }
        return .pass("probe \(probeID): " + hops.joined(separator: ", "), figures: ["probe_ms": (ContinuousClock.now - start).milliseconds])
    }
}
