import Foundation
import LocalServers
import PostgresClient
import TradeStore
import TradingCore
import Testing

@Suite("Redelivered events never duplicate or change rows")
struct IdempotencyTests {
    @Test("the same batch twice leaves identical tables, the second time all duplicates")
    func sameBatchTwice() async throws {
        let store = try await freshStore()
        let events = RunbookFixture().allEvents
        let first = try await store.persist(events)
        #expect(first.events == events.count && first.duplicates == 0)
        let before = try await fingerprints(store.connection)

        let second = try await store.persist(events)
        #expect(second.inserted == 0 && second.merged == 0 && second.positionsChanged == 0)
        #expect(second.duplicates == events.count)
        #expect(try await fingerprints(store.connection) == before)
    }

    @Test("a batch split, reordered and partly redelivered ends exactly like the batch stored at once")
    func splitAndReordered() async throws {
        let fixture = RunbookFixture()
        let events = fixture.allEvents
        let whole = try await freshStore()
        _ = try await whole.persist(events)
        let expected = try await fingerprints(whole.connection)

        var generator = SeededGenerator(seed: 20_260_101)
        let shuffled = events.shuffled(using: &generator)
        let chunks = stride(from: 0, to: shuffled.count, by: 4).map { Array(shuffled[$0..<min($0 + 4, shuffled.count)]) }
        let pieces = try await freshStore()
        // Newest chunk first, then every other chunk again, each redelivery shuffled within itself.
        for chunk in chunks.reversed() { _ = try await pieces.persist(chunk) }
        for (index, chunk) in chunks.enumerated() where index.isMultiple(of: 2) {
            let again = try await pieces.persist(chunk.shuffled(using: &generator))
            #expect(again.inserted == 0 && again.merged == 0 && again.duplicates == chunk.count)
        }
        #expect(try await fingerprints(pieces.connection) == expected)

        // Events repeated inside one batch count once.
        let doubled = try await freshStore()
        let outcome = try await doubled.persist(events + events.reversed())
        #expect(outcome.inserted + outcome.merged == events.count && outcome.duplicates == events.count)
        #expect(try await fingerprints(doubled.connection) == expected)
    }
}

extension IdempotencyTests {
    @Test("two writers storing overlapping parts of the history at the same time end like one writer")
    func concurrentWriters() async throws {
        let fixture = RunbookFixture()
        let events = fixture.allEvents
        let reference = try await freshStore()
        _ = try await reference.persist(events)
        let expected = try await fingerprints(reference.connection)

        let configuration = try await SharedServers.postgres().createDatabase()
        let one = try await TradeStore.open(configuration)
        let two = try await TradeStore.open(configuration)
        // Each writer gets two thirds of the events, one of them newest-first, in small batches.
        let firstPart = Array(events.prefix(events.count * 2 / 3))
        let secondPart = Array(events.suffix(events.count * 2 / 3).reversed())
        async let a: Void = persistInBatches(firstPart, store: one)
        async let b: Void = persistInBatches(secondPart, store: two)
        _ = try await (a, b)
        #expect(try await fingerprints(one.connection) == expected)
    }

    private func persistInBatches(_ events: [StoredEvent], store: TradeStore) async throws {
        for start in stride(from: 0, to: events.count, by: 3) {
            _ = try await store.persist(Array(events[start..<min(start + 3, events.count)]))
        }
    }
}

/// SplitMix64, so a failing shuffle can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
