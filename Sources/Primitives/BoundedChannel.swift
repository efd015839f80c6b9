import Synchronization

/// A bounded hand-over from producer tasks to one consumer task, with back-pressure and no dropping.
///
/// `send` suspends while `capacity` elements are buffered: that is how back-pressure reaches the producers (a
/// WebSocket reader stops reading, a replay stops parsing, a feed waits for Redis). The consumer takes one element
/// at a time (`next`) or everything buffered at once (`nextBatch`, for a group commit). Elements sent before
/// `finish(throwing:)` are still handed out before the end or the error, so an error never overtakes the elements
/// that preceded it.
public final class BoundedChannel<Element: Sendable>: Sendable {
    /// What a sender waiting for room does when its task is cancelled.
    public enum SenderCancellation: Sendable {
        /// It stops waiting and throws `CancellationError`; its element is not sent.
        case abandonsSend
        /// It goes on waiting: an element handed to `send` reaches the consumer unless the channel is closed
        /// (cdb_ws publishes every tick its feed produced before a graceful shutdown).
        case completesSend
    }

    private struct Waiter {
        let id: UInt64
        let element: Element
        let continuation: CheckedContinuation<Void, any Error>
    }

    /// What a `send` does once it saw the state.
    private enum SendAction {
        case done
        case handOver(CheckedContinuation<[Element]?, any Error>)
        case fail
        case wait(UInt64)
    }

    /// What a waiting sender found when it came to register.
    private enum WaitOutcome {
        case registered
        case resume(Result<Void, any Error>)
        case handOver(CheckedContinuation<[Element]?, any Error>)
    }

    private enum Take {
        case elements([Element], unblocked: [Waiter])
        case end(Result<[Element]?, any Error>)
    }

    private struct State {
        let capacity: Int
        var buffer: [Element] = []
        var head = 0
        /// Senders waiting for room, oldest first; each holds the element it wants to add.
        var waiters: [Waiter] = []
        /// The consumer waiting for an element; it is handed a one-element batch, which `next` unwraps.
        var consumer: CheckedContinuation<[Element]?, any Error>?
        var consumerCancelled = false
        var nextSenderID: UInt64 = 0
        /// Senders between deciding to wait and registering, and those of them already cancelled:
        /// a cancellation can arrive before the continuation exists.
        var unregisteredSenders: Set<UInt64> = []
        var cancelledBeforeRegistration: Set<UInt64> = []
        var end: Result<Void, any Error>?
        var closed = false

        var count: Int { buffer.count - head }

        mutating func popFirst() -> Element? {
            guard head < buffer.count else { return nil }
            let element = buffer[head]
            head += 1
            if head == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64, head * 2 >= buffer.count {
                buffer.removeFirst(head)
                head = 0
            }
            return element
        }

        /// One element (`all == false`) or every buffered one; the waiting senders then fill the room it made.
        mutating func take(all: Bool) -> Take? {
            guard count > 0 else {
                if closed || consumerCancelled { return .end(.failure(CancellationError())) }
                if let end { return .end(end.map { nil }) }
                return nil
            }
            let taken: [Element]
            if all {
                taken = Array(buffer[head...])
                buffer.removeAll(keepingCapacity: true)
                head = 0
            } else {
                taken = popFirst().map { [$0] } ?? []
            }
            let unblocked = Array(waiters.prefix(capacity - count))
            waiters.removeFirst(unblocked.count)
            buffer.append(contentsOf: unblocked.map(\.element))
            return .elements(taken, unblocked: unblocked)
        }
    }

    private let state: Mutex<State>
    private let senderCancellation: SenderCancellation

    public init(capacity: Int, senderCancellation: SenderCancellation = .abandonsSend) {
        state = Mutex(State(capacity: max(1, capacity)))
        self.senderCancellation = senderCancellation
    }

    /// Adds `element`, waiting while the buffer is full; throws `CancellationError` when the channel was finished
    /// or closed, or (with `.abandonsSend`) when the sending task is cancelled while it waits.
    public func send(_ element: Element) async throws {
        let action: SendAction = state.withLock { state in
            if state.closed || state.end != nil { return .fail }
            if let consumer = state.consumer {
                state.consumer = nil
                return .handOver(consumer)
            }
            if state.count < state.capacity {
                state.buffer.append(element)
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
            consumer.resume(returning: [element])
        case .fail:
            throw CancellationError()
        case .wait(let id):
            switch senderCancellation {
            case .abandonsSend:
                try await withTaskCancellationHandler {
                    try await waitForRoom(id: id, element: element)
                } onCancel: {
                    abandon(id)
                }
            case .completesSend:
                try await waitForRoom(id: id, element: element)
            }
        }
    }

    private func waitForRoom(id: UInt64, element: Element) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let now: WaitOutcome = state.withLock { state in
                state.unregisteredSenders.remove(id)
                if state.cancelledBeforeRegistration.remove(id) != nil || state.closed || state.end != nil {
                    return .resume(.failure(CancellationError()))
                }
                if let consumer = state.consumer {
                    state.consumer = nil
                    return .handOver(consumer)
                }
                if state.count < state.capacity {
                    state.buffer.append(element)
                    return .resume(.success(()))
                }
                state.waiters.append(Waiter(id: id, element: element, continuation: continuation))
                return .registered
            }
            switch now {
            case .registered:
                break
            case .resume(let result):
                continuation.resume(with: result)
            case .handOver(let consumer):
                consumer.resume(returning: [element])
                continuation.resume()
            }
        }
    }

    /// A cancelled sender's wait ends with `CancellationError` (`.abandonsSend`).
    private func abandon(_ id: UInt64) {
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

    /// The next element; nil once the producers finished and the buffer is empty; throws the error passed to
    /// `finish(throwing:)`, or `CancellationError` when the consuming task is cancelled or the channel closed.
    public func next() async throws -> Element? {
        try await receive(all: false)?.first
    }

    /// Everything buffered, waiting for at least one element; nil and errors as `next()`.
    public func nextBatch() async throws -> [Element]? {
        try await receive(all: true)
    }

    private func receive(all: Bool) async throws -> [Element]? {
        if let take = state.withLock({ $0.take(all: all) }) {
            return try Self.complete(take)
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[Element]?, any Error>) in
                let take: Take? = state.withLock { state in
                    if let take = state.take(all: all) { return take }
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

    private static func complete(_ take: Take) throws -> [Element]? {
        switch take {
        case .elements(let elements, let unblocked):
            for waiter in unblocked { waiter.continuation.resume() }
            return elements
        case .end(let result):
            return try result.get()
        }
    }

    /// The producers are done: the consumer gets the buffered elements, then nil (or `error`).
    public func finish(throwing error: (any Error)? = nil) {
        let consumer = state.withLock { state -> CheckedContinuation<[Element]?, any Error>? in
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

    /// The consumer has gone: buffered elements are dropped and every waiting sender (and a waiting consumer) fails.
    public func close() {
        let (waiters, consumer) = state.withLock { state -> ([Waiter], CheckedContinuation<[Element]?, any Error>?) in
            state.closed = true
            state.buffer.removeAll()
            state.head = 0
            defer {
                state.waiters.removeAll()
                state.consumer = nil
            }
            return (state.waiters, state.consumer)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: CancellationError()) }
        consumer?.resume(throwing: CancellationError())
    }
}
