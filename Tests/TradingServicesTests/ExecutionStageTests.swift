import Foundation
import StackContract
import StageTestKit
import Testing
import TradingCore
import TradingServices

@Suite("ExecutionStage: orders filled against real quotes, results on order_results")
struct ExecutionStageTests {
    let bus = InMemoryBus()
    let metrics = StageParts.metrics()
    let wall = SettableWallClock(start + 1)
    let model = PaperFillModel()

    func stage(_ clock: TradingClock = .wall, marketWait: Duration = .zero) async throws -> ExecutionStage {
        try await ExecutionStage(model: model, clock: clock, simulatedLatency: .zero, marketWait: marketWait, publisher: bus, store: bus,
                                 metrics: metrics, logger: StageParts.logger, wallTime: wall.wallTime)
    }

    @Test("an order fills at the latest quote plus slippage, pays the taker fee, and its result goes out")
    func fillsAtTheQuote() async throws {
        let stage = try await stage()
        await stage.handleMarketData([BusEntry.of(tick("t1", 50_000, at: start), id: "1-0")])
        try await stage.handleOrders([BusEntry.of(order("o1", quantity: 0.1, price: 50_000, pricedAt: start), id: "1-0")])

        let results = try await bus.events(OrderResult.self, on: .orderResults)
        let result = try #require(results.first)
        #expect(results.count == 1)
        #expect(result.orderId == "o1")
        #expect(result.status == .filled)
        #expect(result.filledQuantity == 0.1)
        // 5,000 USD: 0.02 % + 0.05 % × 5,000 / 10,000 = 0.045 % slippage, 0.05 % fee on the fill.
        #expect(abs((result.fillPrice ?? 0) - 50_022.5) < 1e-6)
        #expect(abs(result.fee - 2.501125) < 1e-9)
        #expect(result.eventTime == start + 1)
        #expect(StageParts.value(of: "cdb_order_results_total{status=\"FILLED\"}", in: metrics) == 1)
    }

    @Test("/status shows the clock, the taker fee and each symbol's newest quote")
    func statusDocument() async throws {
        let stage = try await stage()
        await stage.handleMarketData([BusEntry.of(tick("t1", 50_000, at: start), id: "1-0"),
                                      BusEntry.of(tick("t2", 50_100, at: start + 1), id: "2-0")])
        let status = await stage.status()
        #expect(status == ExecutionStatus(clock: "wall", takerFeePct: model.takerFeePct,
                                          lastQuotes: ["BTCUSDT": .init(price: 50_100, time: start + 1)]))
    }

    @Test("an order for a symbol without a quote is rejected, never filled at a made-up price")
    func noQuoteNoFill() async throws {
        let stage = try await stage()
        await stage.handleMarketData([BusEntry.of(tick("t1", 50_000, at: start), id: "1-0")])
        try await stage.handleOrders([BusEntry.of(order("o1", quantity: 1, price: 3_000, pricedAt: start, symbol: "ETHUSDT"), id: "1-0")])

        let result = try #require(try await bus.events(OrderResult.self, on: .orderResults).first)
        #expect(result.status == .rejected)
        #expect(result.reason == .invalidPrice)
        #expect(result.fillPrice == nil)
        #expect(result.message == "no usable market price for ETHUSDT")
    }

    @Test("by the wall clock a quote older than the staleness limit rejects the order")
    func staleQuoteRejects() async throws {
        let stage = try await stage()
        await stage.handleMarketData([BusEntry.of(tick("t1", 50_000, at: start), id: "1-0")])
        wall.advance(by: 30)  // 31 s after the quote
        try await stage.handleOrders([BusEntry.of(order("o1", quantity: 0.1, price: 50_000, pricedAt: start + 30), id: "1-0")])

        let result = try #require(try await bus.events(OrderResult.self, on: .orderResults).first)
        #expect(result.reason == .stalePrice)
        #expect(result.message == "market price is 31.000 s old (limit 30.000 s)")
    }

    @Test("a redelivered order is executed once")
    func redeliveryIsIgnored() async throws {
        let stage = try await stage()
        await stage.handleMarketData([BusEntry.of(tick("t1", 50_000, at: start), id: "1-0")])
        let first = BusEntry.of(order("o1", quantity: 0.1, price: 50_000, pricedAt: start), id: "1-0")
        try await stage.handleOrders([first])
        try await stage.handleOrders([first, BusEntry.of(order("o2", quantity: 0.1, price: 50_000, pricedAt: start), id: "2-0")])
        #expect(try await bus.events(OrderResult.self, on: .orderResults).map(\.orderId) == ["o1", "o2"])
    }

    @Test("a cdbctl probe tick is no quote to fill against")
    func probeIsNoQuote() async throws {
        let stage = try await stage()
        await stage.handleMarketData([BusEntry.of(tick("probe", 50_000, at: start, source: .probe), id: "1-0")])
        try await stage.handleOrders([BusEntry.of(order("o1", quantity: 0.1, price: 50_000, pricedAt: start), id: "1-0")])
        #expect(try await bus.events(OrderResult.self, on: .orderResults).first?.reason == .invalidPrice)
    }

    @Test("with the market clock an order fills at the quote as of its price time, not the newest")
    func marketClockFillsAsOfPriceTime() async throws {
        let stage = try await stage(.market)
        await stage.handleMarketData(BusEntry.ticks([tick("t1", 100, at: start), tick("t2", 110, at: start + 5)]))
        try await stage.handleOrders([BusEntry.of(order("o1", quantity: 1, price: 100, pricedAt: start + 1), id: "1-0")])

        let result = try #require(try await bus.events(OrderResult.self, on: .orderResults).first)
        #expect(result.status == .filled)
        #expect(result.fillPrice == 100 * (1 + model.slippagePct(notional: 100)))
        #expect(result.eventTime == start + 1)  // the order's own time, not the wall clock's
    }

    @Test("with the market clock an order priced after the newest quote waits for market data to reach it")
    func marketClockWaitsForData() async throws {
        let stage = try await stage(.market, marketWait: .seconds(30))
        await stage.handleMarketData([BusEntry.of(tick("t1", 100, at: start), id: "1-0")])
        let pending = Task { try await stage.handleOrders([BusEntry.of(order("o1", quantity: 1, price: 120, pricedAt: start + 5), id: "1-0")]) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(await bus.entries(on: .orderResults).isEmpty)
        await stage.handleMarketData([BusEntry.of(tick("t2", 120, at: start + 5), id: "2-0")])
        try await pending.value

        let result = try #require(try await bus.events(OrderResult.self, on: .orderResults).first)
        #expect(result.fillPrice == 120 * (1 + model.slippagePct(notional: 120)))
        #expect(StageParts.value(of: "cdb_market_clock_waits_expired_total", in: metrics) == 0)
    }

    @Test("with the market clock and no wait left, an order fills at the newest quote and the expiry is counted")
    func marketClockWaitExpires() async throws {
        let stage = try await stage(.market)
        await stage.handleMarketData([BusEntry.of(tick("t1", 100, at: start), id: "1-0")])
        try await stage.handleOrders([BusEntry.of(order("o1", quantity: 1, price: 100, pricedAt: start + 5), id: "1-0")])
        #expect(try await bus.events(OrderResult.self, on: .orderResults).first?.status == .filled)
        #expect(StageParts.value(of: "cdb_market_clock_waits_expired_total", in: metrics) == 1)
    }
}
