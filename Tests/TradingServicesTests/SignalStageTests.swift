import Foundation
import RedisClient
import StackContract
import StageTestKit
import Testing
import TradingCore
import TradingServices

@Suite("SignalStage: market ticks in, momentum signals out on the bus")
struct SignalStageTests {
    let bus = InMemoryBus()
    let metrics = StageParts.metrics()

    func stage() async throws -> SignalStage {
        try await SignalStage(strategy: MomentumStrategy(), publisher: bus, store: bus, metrics: metrics, logger: StageParts.logger)
    }

    /// Ten ticks at 100: the default SMA(3)/SMA(10) window, full but flat.
    var flatWindow: [MarketTick] {
        (0..<10).map { tick("t\($0)", 100, at: start + Double($0)) }
    }

    @Test("a jump after a flat window publishes one BUY on signals, priced and timed by its tick")
    func jumpIsABuy() async throws {
        let stage = try await stage()
        try await stage.handle(BusEntry.ticks(flatWindow + [tick("t10", 101, at: start + 10)]))

        let signals = try await bus.events(TradingSignal.self, on: .signals)
        #expect(signals.count == 1)
        let buy = try #require(signals.first)
        #expect(buy.side == .buy)
        #expect(buy.price == 101)
        #expect(buy.originTickId == "t10")
        #expect(buy.priceTime == start + 10)
        #expect(buy.confidence == 1)
        #expect(await stage.status().lastSignal?.id == buy.id)
        #expect(StageParts.value(of: "cdb_signals_total{side=\"BUY\"}", in: metrics) == 1)
    }

    @Test("a cdbctl probe tick is acknowledged without entering the strategy's window")
    func probeIsNoPrice() async throws {
        let stage = try await stage()
        let probe = tick("probe", 200, at: start + 10, source: .probe)
        try await stage.handle(BusEntry.ticks(flatWindow + [probe]))
        #expect(await bus.entries(on: .signals).isEmpty)
        #expect(await stage.status().lastTickTime == start + 9)
        #expect(StageParts.value(of: "cdb_probe_ticks_total", in: metrics) == 1)

        // Had the probe's 200 entered the window, this 101 would sit below SMA(10) and give no BUY.
        try await stage.handle([BusEntry.of(tick("t10", 101, at: start + 10), id: "12-0")])
        #expect(try await bus.events(TradingSignal.self, on: .signals).map(\.originTickId) == ["t10"])
    }

    @Test("a malformed entry is counted and skipped; the rest of its batch is still evaluated")
    func malformedIsSkipped() async throws {
        let stage = try await stage()
        let garbage = StreamEntry(id: "11-0", fields: ["event": Array("not json".utf8)])
        let entries = BusEntry.ticks(flatWindow) + [garbage, BusEntry.of(tick("t10", 101, at: start + 10), id: "12-0")]
        try await stage.handle(entries)
        #expect(try await bus.events(TradingSignal.self, on: .signals).count == 1)
        #expect(StageParts.value(of: "cdb_malformed_events_total{stream=\"market_data\"}", in: metrics) == 1)
        #expect(StageParts.value(of: "cdb_ticks_processed_total", in: metrics) == 11)
    }

    @Test("a batch whose commit fails throws, so its consumer does not acknowledge it; the redelivery signals once")
    func failedCommitThrows() async throws {
        let stage = try await stage()
        let batch = BusEntry.ticks(flatWindow + [tick("t10", 101, at: start + 10)])
        await bus.failNextCommit(with: CancellationError())
        await #expect(throws: CancellationError.self) { try await stage.handle(batch) }
        #expect(await bus.entries(on: .signals).isEmpty)

        // Had the strategy kept the failed batch's ticks, their second pass would find the jump spent and stay silent.
        try await stage.handle(batch)
        #expect(try await bus.events(TradingSignal.self, on: .signals).map(\.originTickId) == ["t10"])
    }

    @Test("a commit stored whose reply was lost is not repeated: the redelivered batch is recognised")
    func lostReplyIsNotRepeated() async throws {
        let stage = try await stage()
        let batch = BusEntry.ticks(flatWindow + [tick("t10", 101, at: start + 10)])
        await bus.loseNextReply(with: CancellationError())
        await #expect(throws: CancellationError.self) { try await stage.handle(batch) }
        try await stage.handle(batch)
        #expect(try await bus.events(TradingSignal.self, on: .signals).count == 1)
    }

    @Test("a restarted stage continues the saved strategy: the same signals as without the restart")
    func restartContinuesTheStrategy() async throws {
        try await stage().handle(BusEntry.ticks(flatWindow))
        let restarted = try await stage()
        // The batch redelivered after a crash before its acknowledgement, then the jump.
        try await restarted.handle(BusEntry.ticks(flatWindow))
        try await restarted.handle([BusEntry.of(tick("t10", 101, at: start + 10), id: "11-0")])
        #expect(try await bus.events(TradingSignal.self, on: .signals).map(\.originTickId) == ["t10"])
        #expect(await restarted.status().lastTickTime == start + 10)
    }
}
