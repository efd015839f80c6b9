import CHiredis
import Primitives
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A message received on a subscribed channel.
public struct PubSubMessage: Sendable, Equatable {
    public var channel: String
    public var payload: [UInt8]

    public var text: String { String(decoding: payload, as: UTF8.self) }
}

/// A `SUBSCRIBE` on a connection of its own (a subscribed connection can run no other command).
///
/// A thread owns the hiredis context from connect to close and polls its socket with a short timeout,
/// so `close()` ends it promptly without a read being cut short mid-reply.
public final class RedisSubscription: Sendable {
    /// The messages, in arrival order; the stream ends with an error when the connection breaks.
    public let messages: AsyncThrowingStream<PubSubMessage, any Error>
    private let closed = Atomic<Bool>(false)

    /// Connects, subscribes and returns once the server has confirmed every channel.
    public init(_ configuration: RedisConfiguration, channels: [String]) async throws(RedisError) {
        let (stream, continuation) = AsyncThrowingStream<PubSubMessage, any Error>.makeStream()
        messages = stream
        let result: Result<Void, RedisError> = await withCheckedContinuation { ready in
            OSThread.detach(name: "redis subscribe \(configuration.endpoint)") { [self] in
                listen(configuration, channels: channels, ready: ready, messages: continuation)
            }
        }
        try result.get()
    }

    deinit { close() }

    /// Unsubscribes by dropping the connection; `messages` finishes.
    public func close() {
        closed.store(true, ordering: .relaxed)
    }

    private func listen(
        _ configuration: RedisConfiguration, channels: [String],
        ready: CheckedContinuation<Result<Void, RedisError>, Never>,
        messages: AsyncThrowingStream<PubSubMessage, any Error>.Continuation
    ) {
        let endpoint = configuration.endpoint
        guard let context = redisConnectWithTimeout(configuration.host, Int32(configuration.port), configuration.connectTimeout.timeval) else {
            ready.resume(returning: .failure(.connection(endpoint: endpoint, reason: "cannot allocate a hiredis context")))
            messages.finish()
            return
        }
        defer { redisFree(context) }
        if context.pointee.err != 0 {
            ready.resume(returning: .failure(.connection(endpoint: endpoint, reason: RedisConnection.errorText(context))))
            messages.finish()
            return
        }
        redisSetTimeout(context, configuration.commandTimeout.timeval)

        if let password = configuration.password, !password.isEmpty {
            let auth: [any RedisArgument] = configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            var reply: UnsafeMutableRawPointer?
            guard RESP.append(auth, to: context), redisGetReply(context, &reply) == REDIS_OK, let reply else {
                ready.resume(returning: .failure(.connection(endpoint: endpoint, reason: RedisConnection.errorText(context))))
                messages.finish()
                return
            }
            let value = RedisValue(reply: reply.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(reply)
            if case .error(let message) = value {
                ready.resume(returning: .failure(.server(endpoint: endpoint, command: "AUTH", message: message)))
                messages.finish()
                return
            }
        }
        _ = RESP.append(["SUBSCRIBE"] + channels.map { $0 as any RedisArgument }, to: context)
        var confirmed = 0
        var readyResumed = false
        func fail(_ error: RedisError) {
            if readyResumed { messages.finish(throwing: error) } else { ready.resume(returning: .failure(error)); messages.finish() }
        }
        // The first write happens inside the first redisGetReply; flush explicitly so poll() has something to wait for.
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(context, &done) != REDIS_OK {
                fail(.connection(endpoint: endpoint, reason: RedisConnection.errorText(context)))
                return
            }
        }
        while !closed.load(ordering: .relaxed) {
            var raw: UnsafeMutableRawPointer?
            if redisReaderGetReply(context.pointee.reader, &raw) != REDIS_OK {
                fail(.connection(endpoint: endpoint, reason: "protocol error"))
                return
            }
            if let raw {
                let value = RedisValue(reply: raw.assumingMemoryBound(to: redisReply.self))
                freeReplyObject(raw)
                guard let parts = value.array, parts.count >= 3, let kind = parts[0].string else {
                    if case .error(let message) = value {
                        fail(.server(endpoint: endpoint, command: "SUBSCRIBE", message: message))
                        return
                    }
                    continue
                }
                switch kind {
                case "subscribe":
                    confirmed += 1
                    if confirmed == channels.count && !readyResumed {
                        readyResumed = true
                        ready.resume(returning: .success(()))
                    }
                case "message":
                    messages.yield(PubSubMessage(channel: parts[1].string ?? "", payload: parts[2].bytes ?? []))
                default:
                    break
                }
                continue
            }
            var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
            let polled = poll(&descriptor, 1, 200)
            if polled < 0 && errno != EINTR {
                fail(.connection(endpoint: endpoint, reason: String(cString: strerror(errno))))
                return
            }
            if polled > 0 && redisBufferRead(context) != REDIS_OK {
                let reason = context.pointee.err == REDIS_ERR_EOF ? "server closed the connection" : RedisConnection.errorText(context)
                fail(.connection(endpoint: endpoint, reason: reason))
                return
            }
        }
        if !readyResumed { ready.resume(returning: .failure(.connection(endpoint: endpoint, reason: "closed before subscribing"))) }
        messages.finish()
    }
}
