import Primitives
import Synchronization
import Testing

private struct Boom: Error, Equatable {}

@Suite("Bounded channel")
struct BoundedChannelTests {
    @Test("a full channel makes its sender wait until the consumer takes an element; nothing is dropped")
    func backPressure() async throws {
        let channel = BoundedChannel<Int>(capacity: 2)
        let sent = Mutex(0)
        let producer = Task {
            for value in 1...5 {
                try await channel.send(value)
                sent.withLock { $0 += 1 }
            }
            channel.finish()
        }
        try await Task.sleep(for: .milliseconds(200))
        // Two buffered, the third waits for room.
        #expect(sent.withLock { $0 } == 2)
        var received: [Int] = []
        while let value = try await channel.next() { received.append(value) }
        try await producer.value
        #expect(received == [1, 2, 3, 4, 5])
    }

    @Test("a batch is everything buffered, in order; waiting senders then fill the room it made")
    func batches() async throws {
        let channel = BoundedChannel<Int>(capacity: 3)
        let producer = Task {
            for value in 1...7 { try await channel.send(value) }
            channel.finish()
        }
        try await Task.sleep(for: .milliseconds(200))
        var batches: [[Int]] = []
        while let batch = try await channel.nextBatch() { batches.append(batch) }
        try await producer.value
        #expect(batches.first == [1, 2, 3])
        #expect(batches.flatMap { $0 } == Array(1...7))
        #expect(batches.allSatisfy { $0.count <= 3 })
    }

    @Test("elements sent before an error are handed out before it")
    func errorAfterElements() async throws {
        let channel = BoundedChannel<Int>(capacity: 4)
        try await channel.send(1)
        try await channel.send(2)
        channel.finish(throwing: Boom())
        #expect(try await channel.next() == 1)
        #expect(try await channel.next() == 2)
        await #expect(throws: Boom.self) { try await channel.next() }
    }

    @Test("a cancelled sender gives up its element (.abandonsSend) or still delivers it (.completesSend)")
    func senderCancellation() async throws {
        for mode in [BoundedChannel<Int>.SenderCancellation.abandonsSend, .completesSend] {
            let channel = BoundedChannel<Int>(capacity: 1, senderCancellation: mode)
            try await channel.send(1)
            let sender = Task { try await channel.send(2) }
            try await Task.sleep(for: .milliseconds(100))
            sender.cancel()
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await channel.next() == 1)
            switch mode {
            case .abandonsSend:
                await #expect(throws: CancellationError.self) { try await sender.value }
            case .completesSend:
                try await sender.value
                #expect(try await channel.next() == 2)
            }
        }
    }

    @Test("closing fails the waiting senders and every later send")
    func close() async throws {
        let channel = BoundedChannel<Int>(capacity: 1)
        try await channel.send(1)
        let sender = Task { try await channel.send(2) }
        try await Task.sleep(for: .milliseconds(100))
        channel.close()
        await #expect(throws: CancellationError.self) { try await sender.value }
        await #expect(throws: CancellationError.self) { try await channel.send(3) }
    }

    @Test("a consumer waiting on an empty channel is cancelled with its task")
    func consumerCancellation() async throws {
        let channel = BoundedChannel<Int>(capacity: 1)
        let consumer = Task { try await channel.next() }
        try await Task.sleep(for: .milliseconds(100))
        consumer.cancel()
        await #expect(throws: CancellationError.self) { try await consumer.value }
    }
}
