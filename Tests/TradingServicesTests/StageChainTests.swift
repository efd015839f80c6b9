import Foundation
import StackContract
import StageTestKit
import Testing
import TradingCore
import TradingServices

@Suite("The three stages chained through the in-memory bus")
struct StageChainTests {
    @Test("a price jump becomes a signal, an order, a fill and an open position, each tied to the one before")
    func jumpToPosition() async throws {
        let bus = InMemoryBus()
        let signals = try await SignalStage(
            strategy: MomentumStrategy(), publisher: bus, store: bus, metrics: StageParts.metrics(), logger: StageParts.logger)
        let risk = try await RiskStage(
            policy: RiskPolicy(), startingCapital: 100_000, startedAt: start, clock: .market, snapshotInterval: .seconds(3_600),
            markSaveDelay: .zero, marketWait: .zero, store: bus, publisher: bus, metrics: StageParts.metrics(), logger: StageParts.logger)
        let execution = try await ExecutionStage(
            model: PaperFillModel(), clock: .market, simulatedLatency: .zero, marketWait: .zero, publisher: bus, store: bus,
            metrics: StageParts.metrics(), logger: StageParts.logger)

        let market = BusEntry.ticks((0..<10).map { tick("t\($0)", 100, at: start + Double($0)) } + [tick("t10", 101, at: start + 10)])
        try await signals.handle(market)
        try await risk.handleMarketData(market)
        await execution.handleMarketData(market)
        try await risk.handleSignals(await bus.entries(on: .signals))
        try await execution.handleOrders(await bus.entries(on: .orders))
        try await risk.handleResults(await bus.entries(on: .orderResults))

        let signal = try #require(try await bus.events(TradingSignal.self, on: .signals).first)
        let order = try #require(try await bus.events(OrderRequest.self, on: .orders).first)
        let result = try #require(try await bus.events(OrderResult.self, on: .orderResults).first)
        #expect(order.signalId == signal.id)
        #expect(result.orderId == order.id)
        #expect(result.status == .filled)
        #expect(result.originTickId == "t10")
        let status = await risk.status()
        #expect(status.openPositions.map(\.symbol) == ["BTCUSDT"])
        #expect(status.pendingOrders == 0)
        #expect(abs(status.cash - (100_000 - result.filledQuantity * (result.fillPrice ?? 0) - result.fee)) < 1e-6)
    }
}
