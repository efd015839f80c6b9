import TradingCore

/// Bounded hand-over of ticks from producer tasks to one consumer task.
///
/// `send` suspends while `capacity` ticks are buffered: that is how backpressure reaches the
/// producers (a WebSocket reader stops reading, a replay stops parsing). Ticks buffered before
/// `finish(throwing:)` are still handed out before the end or the error, so an error never
/// overtakes the ticks that preceded it.
final class TickChannel: Sendable {
    private struct Waiter {
        let id: UInt64
        let tick: MarketTick
        let continuation: CheckedContinuation<Void, any Error>
    }

    private enum Take {
        case tick(MarketTick, unblocked: Waiter?)
        case end(Result<MarketTick?, any Error>)
    }

    private struct State {
        var buffer: [MarketTick] = []
        var head = 0
        /// Senders waiting for room, oldest first; each holds the tick it wants to add.
        var waiters: [Waiter] = []
        var consumer: CheckedContinuation<MarketTick?, any Error>?
        var consumerCancelled = false
        var nextSenderID: UInt64 = 0
        /// Senders between deciding to wait and registering, and those of them already cancelled:
        /// a cancellation can arrive before the continuation exists.
        var unregisteredSenders: Set<UInt64> = []
        var cancelledBeforeRegistration: Set<UInt64> = []
        var end: Result<Void, any Error>?
        var closed = false

        var count: Int { buffer.count - head }

        mutating func popFirst() -> MarketTick? {
            guard head < buffer.count else { return nil }
            let tick = buffer[head]
            head += 1
            if head == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64, head * 2 >= buffer.count {
                buffer.removeFirst(head)
                head = 0
            }
            return tick
        }

        mutating func take() -> Take? {
            if let tick = popFirst() {
                var unblocked: Waiter?
                if !waiters.isEmpty {
                    let waiter = waiters.removeFirst()
                    buffer.append(waiter.tick)
                    unblocked = waiter
                }
                return .tick(tick, unblocked: unblocked)
            }
            if closed || consumerCancelled { return .end(.failure(CancellationError())) }
            if let end { return .end(end.map { nil }) }
            return nil
        }
    }

    private let capacity: Int
    private let state = Locked(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds `tick`, waiting while the buffer is full; throws `CancellationError` when the sending
    /// task is cancelled or the consumer has gone.
    func send(_ tick: MarketTick) async throws {
        enum Action {
            case done
            case handOver(CheckedContinuation<MarketTick?, any Error>)
            case fail
            case wait(UInt64)
        }
        let action: Action = state.withLock { state in
            if state.closed || state.end != nil { return .fail }
            if let consumer = state.consumer {
                state.consumer = nil
                return .handOver(consumer)
            }
            if state.count < capacity {
                state.buffer.append(tick)
                return .done
            }
            state.nextSenderID += 1
            state.unregisteredSenders.insert(state.nextSenderID)
            return .wait(state.nextSenderID)
        }
        switch action {
        case .done:
            return
        case .handOver(let consumer):
            consumer.resume(returning: tick)
            return
        case .fail:
            throw CancellationError()
        case .wait(let id):
            try await waitForRoom(id: id, tick: tick)
        }
    }

    private func waitForRoom(id: UInt64, tick: MarketTick) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Now {
                    case registered
                    case resume(Result<Void, any Error>)
                    case handOver(CheckedContinuation<MarketTick?, any Error>)
                }
                let now: Now = state.withLock { state in
                    state.unregisteredSenders.remove(id)
                    if state.cancelledBeforeRegistration.remove(id) != nil || state.closed || state.end != nil {
                        return .resume(.failure(CancellationError()))
                    }
                    if let consumer = state.consumer {
                        state.consumer = nil
                        return .handOver(consumer)
                    }
                    if state.count < capacity {
                        state.buffer.append(tick)
                        return .resume(.success(()))
                    }
                    state.waiters.append(Waiter(id: id, tick: tick, continuation: continuation))
                    return .registered
                }
                switch now {
                case .registered:
                    break
                case .resume(let result):
                    continuation.resume(with: result)
                case .handOver(let consumer):
                    consumer.resume(returning: tick)
                    continuation.resume()
                }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { state in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                    return state.waiters.remove(at: index)
                }
                if state.unregisteredSenders.contains(id) {
                    state.cancelledBeforeRegistration.insert(id)
                }
                return nil
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// The next tick; nil once the producers finished and the buffer is empty; throws the error
    /// passed to `finish(throwing:)`, or `CancellationError` when the consuming task is cancelled.
    func next() async throws -> MarketTick? {
        if let take = state.withLock({ $0.take() }) {
            return try Self.complete(take)
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<MarketTick?, any Error>) in
                let take: Take? = state.withLock { state in
                    if let take = state.take() { return take }
                    state.consumer = continuation
                    return nil
                }
                if let take {
                    continuation.resume(with: Result { try Self.complete(take) })
                }
            }
        } onCancel: {
            let consumer = state.withLock { state in
                state.consumerCancelled = true
                defer { state.consumer = nil }
                return state.consumer
            }
            consumer?.resume(throwing: CancellationError())
        }
    }

    private static func complete(_ take: Take) throws -> MarketTick? {
        switch take {
        case .tick(let tick, let unblocked):
            unblocked?.continuation.resume()
            return tick
        case .end(let result):
            return try result.get()
        }
    }

    /// Producers are done: the consumer gets the buffered ticks, then nil (or `error`).
    func finish(throwing error: (any Error)?) {
        let consumer = state.withLock { state -> CheckedContinuation<MarketTick?, any Error>? in
            guard state.end == nil else { return nil }
            state.end = error.map { .failure($0) } ?? .success(())
            defer { state.consumer = nil }
            return state.consumer
        }
        if let error {
            consumer?.resume(throwing: error)
        } else {
            consumer?.resume(returning: nil)
        }
    }

    /// The consumer has gone: buffered ticks are dropped and every waiting sender fails.
    func close() {
        let waiters = state.withLock { state -> [Waiter] in
            state.closed = true
            state.buffer.removeAll()
            state.head = 0
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: CancellationError())
        }
    }
}
