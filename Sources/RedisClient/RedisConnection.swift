import CHiredis
import Primitives
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One connection to Redis over hiredis.
///
/// The hiredis context lives only inside this actor, whose methods run on a thread of its own:
/// hiredis blocks in `read(2)`, which must not stall Swift's cooperative pool. A lost connection is
/// re-established (with backoff, within `reconnectWindow`) by the next call; the call that saw the loss
/// fails, because whether its command ran is unknown and only the caller can decide to repeat it.
public actor RedisConnection {
    public let configuration: RedisConfiguration
    private let executor: DedicatedThreadExecutor
    // Touched only on the actor's thread; `nonisolated(unsafe)` lets the (nonisolated) deinit free it,
    // because `isolated deinit` miscompiles across modules in optimised builds ("circular reference").
    private nonisolated(unsafe) var context: UnsafeMutablePointer<redisContext>?
    /// Reused for every pipeline, so steady publishing does not grow a fresh buffer each time.
    private var encoded: [UInt8] = []

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Between reconnect attempts within `reconnectWindow`: 50 ms doubling to 1 s.
    private static let reconnectBackoff = Backoff(initialDelay: .milliseconds(50), maxDelay: .seconds(1))

    /// Connects, authenticates and selects the database; fails at once (no retries) with a located error.
    public init(_ configuration: RedisConfiguration) async throws(RedisError) {
        self.configuration = configuration
        self.executor = DedicatedThreadExecutor(name: "redis \(configuration.endpoint)")
        try openContext()
    }

    deinit {
        if let context { redisFree(context) }
        executor.shutdown()
    }

    /// Runs one command and returns its reply; an error reply is thrown as `RedisError.server`.
    @discardableResult
    public func command(_ arguments: any RedisArgument...) throws(RedisError) -> RedisValue {
        try command(arguments)
    }

    /// Runs one command given as an argument list.
    @discardableResult
    public func command(_ arguments: [any RedisArgument], extraTimeout: Duration = .zero) throws(RedisError) -> RedisValue {
        let context = try connectedContext()
        if extraTimeout > .zero { redisSetTimeout(context, (configuration.commandTimeout + extraTimeout).timeval) }
        defer { if extraTimeout > .zero, let live = self.context { redisSetTimeout(live, configuration.commandTimeout.timeval) } }
        if !RESP.append(arguments, to: context) { throw lose(context) }
        var raw: UnsafeMutableRawPointer?
        if redisGetReply(context, &raw) != REDIS_OK { throw lose(context) }
        let reply = try takeReply(raw, context: context)
        if case .error(let message) = reply {
            throw .server(endpoint: configuration.endpoint, command: RESP.name(of: arguments), message: message)
        }
        return reply
    }

    /// Sends all commands in one write and reads their replies in order (error replies stay values).
    public func pipeline(_ commands: [[any RedisArgument]]) throws(RedisError) -> [RedisValue] {
        let context = try connectedContext()
        encoded.removeAll(keepingCapacity: true)
        for arguments in commands { RESP.appendCommand(arguments, to: &encoded) }
        // One buffer for the whole pipeline; the first reply read flushes it in as few writes as the socket takes.
        if !RESP.append(encoded: encoded, to: context) { throw lose(context) }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            if redisGetReply(context, &raw) != REDIS_OK { throw lose(context) }
            replies.append(try takeReply(raw, context: context))
        }
        return replies
    }

    /// Appends many events to one stream in one pipeline (`XADD stream MAXLEN ~ n * field payload` each) and
    /// returns their entry ids. The hot path of a publisher: encoded straight into the reused buffer,
    /// without building an argument list per event.
    public func xaddBatch(_ stream: String, maxLength: Int?, field: String, payloads: [[UInt8]]) throws(RedisError) -> [String] {
        guard !payloads.isEmpty else { return [] }
        let context = try connectedContext()
        encoded.removeAll(keepingCapacity: true)
        let prefix = RESP.xaddPrefix(stream: stream, maxLength: maxLength, field: field)
        for payload in payloads {
            encoded.append(contentsOf: prefix)
            payload.appendBulk(to: &encoded)
        }
        if !RESP.append(encoded: encoded, to: context) { throw lose(context) }
        var ids: [String] = []
        ids.reserveCapacity(payloads.count)
        var firstError: String?
        for _ in payloads {
            var raw: UnsafeMutableRawPointer?
            if redisGetReply(context, &raw) != REDIS_OK { throw lose(context) }
            switch try takeReply(raw, context: context) {
            case .error(let message): firstError = firstError ?? message
            case let reply: ids.append(reply.string ?? "")
            }
        }
        if let firstError { throw .server(endpoint: configuration.endpoint, command: "XADD", message: firstError) }
        return ids
    }

    /// Closes the connection now; a later call reconnects.
    public func close() {
        if let context { redisFree(context) }
        context = nil
    }

    // MARK: connection management

    private func connectedContext() throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        if let context { return context }
        // Reconnect after a loss, backing off so a restarting server is not hammered.
        let deadline = ContinuousClock.now + configuration.reconnectWindow
        var failures = 0
        while true {
            do {
                try openContext()
                if let context { return context }
            } catch {
                failures += 1
                let delay = Self.reconnectBackoff.delay(afterFailures: failures)
                if ContinuousClock.now + delay > deadline { throw error }
                OSThread.sleep(for: delay)
            }
        }
    }

    private func openContext() throws(RedisError) {
        guard let fresh = redisConnectWithTimeout(configuration.host, Int32(configuration.port), configuration.connectTimeout.timeval) else {
            throw .connection(endpoint: configuration.endpoint, reason: "cannot allocate a hiredis context")
        }
        if fresh.pointee.err != 0 {
            let reason = Self.errorText(fresh)
            redisFree(fresh)
            throw .connection(endpoint: configuration.endpoint, reason: reason)
        }
        redisSetTimeout(fresh, configuration.commandTimeout.timeval)
        context = fresh
        var handshake: [[any RedisArgument]] = []
        if let password = configuration.password, !password.isEmpty {
            handshake.append(configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password])
        }
        if configuration.database != 0 { handshake.append(["SELECT", configuration.database]) }
        if let name = configuration.clientName { handshake.append(["CLIENT", "SETNAME", name]) }
        do {
            for arguments in handshake { try command(arguments) }
        } catch {
            close()
            throw error
        }
    }

    /// Frees a context whose I/O failed and turns its error into a `RedisError`.
    private func lose(_ broken: UnsafeMutablePointer<redisContext>) -> RedisError {
        let reason = broken.pointee.err == REDIS_ERR_EOF ? "server closed the connection" : Self.errorText(broken)
        redisFree(broken)
        if context == broken { context = nil }
        return .connection(endpoint: configuration.endpoint, reason: reason)
    }

    private func takeReply(_ raw: UnsafeMutableRawPointer?, context: UnsafeMutablePointer<redisContext>) throws(RedisError) -> RedisValue {
        guard let raw else { throw lose(context) }
        defer { freeReplyObject(raw) }
        return RedisValue(reply: raw.assumingMemoryBound(to: redisReply.self))
    }

    static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

extension RedisValue {
    /// Copies a hiredis reply tree into Swift values.
    init(reply: UnsafePointer<redisReply>) {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            self = .bulk(node.str.map { Array(UnsafeRawBufferPointer(start: $0, count: node.len)) } ?? [])
        case REDIS_REPLY_STATUS:
            self = .status(node.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: node.len), as: UTF8.self) } ?? "")
        case REDIS_REPLY_ERROR:
            self = .error(node.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: node.len), as: UTF8.self) } ?? "")
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(node.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisValue] = []
            elements.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                if let child = node.element[index] { elements.append(RedisValue(reply: child)) } else { elements.append(.null) }
            }
            self = .array(elements)
        default:
            self = .null
        }
    }
}
