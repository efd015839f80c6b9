#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import EventBus
import PlainText
import Logging
import Primitives
import Prometheus
import RedisClient
import ServiceHost
import StackContract
import TradingCore

/// cdb_risk's work: the paper portfolio, the four limits, sizing, and the orders that pass them.
///
/// It consumes three streams (market data for marks, signals to judge, execution results to book)
/// and keeps everything in one actor, so every decision sees one consistent portfolio. The state is
/// saved (to Redis, under `stateKey`) before a batch that changed a decision is acknowledged (signals judged, fills booked,
/// orders or alerts sent, a new UTC day): a restart resumes where it stopped and redelivered events are
/// recognised by id. A market-data batch that only moved marks (and the equity peak with them) is not
/// saved on its own: such changes are saved once the oldest is `markSaveDelay` old, by the next batch or
/// the once-a-second `tick()`, and at a graceful stop. Saving the whole state per tick made the signals
/// queue behind the saves. So a crash (SIGKILL, power) loses at most the mark-to-market of the last
/// `markSaveDelay` (plus up to a second when no tick followed): the next ticks restore the marks; a peak
/// reached and lost again inside that window is forgotten, so the circuit breaker measures from the
/// earlier peak.
public actor RiskStage {
    /// Everything that must survive a restart.
    struct State: Codable {
        var engine: RiskEngine
        var seenSignals = RecentIDs(capacity: 50_000)
        var appliedResults = RecentIDs(capacity: 50_000)
        /// Set from the first event seen: in market mode the clock starts wherever the data starts.
        var nextSnapshotAt: Date?
        var marketTime: Date?
    }

    public static let stateKey = "cdb_risk:state"

    private var state: State
    private let clock: TradingClock
    private let snapshotInterval: TimeInterval
    private let markSaveDelay: Duration
    private let marketWait: Duration
    /// When the oldest change not yet in Redis was made; nil while the saved state is current.
    private var unsavedSince: ContinuousClock.Instant?
    private let publisher: any EventSink
    private let store: any StateStore
    private let wallTime: WallTime
    private let logger: Logger
    private let gauges: RiskGauges
    private let marketWaitsExpired: Counter

    /// Loads the saved state from `store`, or starts a fresh account with `engine`. `markSaveDelay`: how long
    /// changes that only move marks may stay unsaved (zero saves after every batch). `marketWait`: with the
    /// market clock, how long a signal may wait for the marks to reach its time.
    public init(
        engine: RiskEngine, clock: TradingClock, snapshotInterval: Duration, markSaveDelay: Duration, marketWait: Duration,
        store: any StateStore, publisher: any EventSink, metrics: ServiceMetrics, logger: Logger,
        wallTime: @escaping WallTime = TradingClock.machineTime
    ) async throws {
        let interval = snapshotInterval.seconds
        var restored: State?
        if let saved = try await store.load() {
            do {
                restored = try EventCoding.decoder.decode(State.self, from: Data(saved))
                logger.info("risk state restored", metadata: ["key": "\(Self.stateKey)"])
            } catch {
                // Refuse to trade on a state we cannot read rather than silently start from scratch.
                throw MalformedEvent(entryID: Self.stateKey, reason: "saved risk state is unreadable (\(error)); inspect it, or DEL the key to start a fresh account")
            }
        }
        self.state = restored ?? State(engine: engine)
        self.clock = clock
        self.snapshotInterval = interval
        self.markSaveDelay = markSaveDelay
        self.marketWait = marketWait
        self.publisher = publisher
        self.store = store
        self.wallTime = wallTime
        self.logger = logger
        self.gauges = RiskGauges(metrics)
        self.marketWaitsExpired = metrics.counter(
            "market_clock_waits_expired_total", help: "Market clock: signals judged before the marks reached their time")
    }

    /// The latest moment known: wall time, or in market mode the newest tick seen.
    private var now: Date {
        clock == .market ? (state.marketTime ?? wallTime()) : wallTime()
    }

    /// Marks the portfolio with each tick, sells what drifted past a limit, snapshots when due.
    public func handleMarketData(_ entries: [StreamEntry]) async throws {
        var outgoing: [(stream: String, payload: String)] = []
        let day = state.engine.currentUTCDay
        var marked = false
        for entry in entries {
            // A cdbctl probe only proves the flow; its price and time must not move marks or the market clock.
            guard case .success(let tick) = EventEnvelope.decode(MarketTick.self, from: entry), tick.source != .probe else { continue }
            marked = true
            if clock == .market { state.marketTime = max(state.marketTime ?? tick.eventTime, tick.eventTime) }
            let before = state.engine.tradingState
            state.engine.mark(tick)
            noteStateChange(from: before, &outgoing)
            for order in state.engine.driftReductions(now: clock.now(for: tick.eventTime, wallTime: wallTime)) {
                outgoing.append((BusStream.orders.rawValue, EventEnvelope.encode(order)))
            }
            snapshotIfDue(at: clock.now(for: tick.eventTime, wallTime: wallTime), &outgoing)
        }
        guard marked else { return }
        // A new UTC day resets the day-start equity and lifts a day halt: a decision, saved at once.
        try await finish(outgoing, onlyMarks: outgoing.isEmpty && state.engine.currentUTCDay == day)
    }

    /// Judges each new signal: an order, or a rejection with its reason.
    public func handleSignals(_ entries: [StreamEntry]) async throws {
        var outgoing: [(stream: String, payload: String)] = []
        for entry in entries {
            guard case .success(let signal) = EventEnvelope.decode(TradingSignal.self, from: entry),
                  state.seenSignals.insert(signal.id)
            else { continue }
            try await awaitMarks(through: signal.eventTime)
            let before = state.engine.tradingState
            switch state.engine.evaluate(signal: signal, now: clock.now(for: signal.eventTime, wallTime: wallTime)) {
            case .approved(let order):
                outgoing.append((BusStream.orders.rawValue, EventEnvelope.encode(order)))
            case .rejected(let rejection):
                outgoing.append((BusStream.riskEvents.rawValue, EventEnvelope.encode(rejection)))
            }
            noteStateChange(from: before, &outgoing)
        }
        try await finish(outgoing)
    }

    /// With the market clock, waits (up to `marketWait`) until the marks reached `time`. In a replay this stage
    /// reads market data and signals at different paces; a signal judged on older marks could pass as a BUY
    /// after the moment the circuit breaker or the daily stop had halted trading.
    private func awaitMarks(through time: Date) async throws {
        guard clock == .market else { return }
        let deadline = ContinuousClock.now + marketWait
        while (state.marketTime ?? .distantPast) < time {
            guard ContinuousClock.now < deadline else {
                marketWaitsExpired.increment()
                logger.warning("market data did not reach the signal's time; judging it on the marks known", metadata: [
                    "signal_time": "\(EventCoding.timestamp(time))"])
                return
            }
            // The actor is free meanwhile: the market-data batches that move the marks run in between.
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Books execution results; closed round trips go out as trades, followed by a fresh snapshot.
    public func handleResults(_ entries: [StreamEntry]) async throws {
        var outgoing: [(stream: String, payload: String)] = []
        for entry in entries {
            guard case .success(let result) = EventEnvelope.decode(OrderResult.self, from: entry),
                  state.appliedResults.insert(result.id)
            else { continue }
            let before = state.engine.tradingState
            let moment = clock.now(for: result.eventTime, wallTime: wallTime)
            for trade in state.engine.apply(fill: result, now: moment) {
                outgoing.append((BusStream.trades.rawValue, EventEnvelope.encode(trade)))
            }
            noteStateChange(from: before, &outgoing)
            if result.status == .filled {
                // Stamped with the time of the marks it is valued at: in a market-clock replay those can be later
                // than the order, and a snapshot must not show a state (say HALTED) before the moment it arose.
                let valuedAt = max(moment, now)
                outgoing.append((BusStream.portfolioSnapshots.rawValue, EventEnvelope.encode(state.engine.snapshot(now: valuedAt))))
            }
        }
        try await finish(outgoing)
    }

    /// Publishes the periodic snapshot when its time has come; on a timer, for a quiet live market
    /// (in market mode snapshots follow the ticks instead). Saves marks that waited long enough.
    public func tick() async throws {
        var outgoing: [(stream: String, payload: String)] = []
        if clock == .wall { snapshotIfDue(at: wallTime(), &outgoing) }
        guard !outgoing.isEmpty || unsavedSince != nil else { return }
        try await finish(outgoing, onlyMarks: outgoing.isEmpty)
    }

    /// Saves whatever is not saved yet; at a graceful stop.
    public func flush() async throws {
        if unsavedSince != nil { try await save() }
    }

    /// Operator action behind `POST /circuit-breaker/reset`.
    public func resetCircuitBreaker() async throws -> RiskStatus {
        state.engine.resetCircuitBreaker(at: now)
        logger.warning("circuit breaker reset by operator")
        try await finish([(BusStream.alerts.rawValue, Self.alert("circuit_breaker_reset", "operator reset the circuit breaker", at: now))])
        return status()
    }

    /// What `/status` shows; the runbook reads `.daily_drawdown`.
    public func status() -> RiskStatus {
        let engine = state.engine
        let portfolio = engine.portfolio
        let equity = portfolio.equity
        return RiskStatus(
            equity: equity, cash: portfolio.cash, dailyDrawdown: engine.dailyDrawdownPct,
            drawdownFromPeak: engine.drawdownFromPeakPct,
            totalExposurePct: equity > 0 ? portfolio.totalExposure / equity : 0,
            tradingState: engine.tradingState.rawValue, openPositions: engine.snapshot(now: now).positions,
            pendingOrders: engine.pendingBuys.count, limits: engine.limits,
            approved: engine.counters.approved, rejected: engine.counters.totalRejected,
            clock: clock.rawValue, time: now)
    }

    private func snapshotIfDue(at current: Date, _ outgoing: inout [(stream: String, payload: String)]) {
        guard let due = state.nextSnapshotAt else {
            state.nextSnapshotAt = Self.boundary(after: current, interval: snapshotInterval)
            return
        }
        guard current >= due else { return }
        outgoing.append((BusStream.portfolioSnapshots.rawValue, EventEnvelope.encode(state.engine.snapshot(now: current))))
        state.nextSnapshotAt = Self.boundary(after: current, interval: snapshotInterval)
    }

    private func noteStateChange(from before: TradingState, _ outgoing: inout [(stream: String, payload: String)]) {
        let after = state.engine.tradingState
        guard after != before else { return }
        let message = "trading state \(before.rawValue) → \(after.rawValue) (daily drawdown \((state.engine.dailyDrawdownPct * 100).fixed(2)) %, from peak \((state.engine.drawdownFromPeakPct * 100).fixed(2)) %)"
        (after == .active ? logger.notice(Logger.Message(stringLiteral: message)) : logger.critical(Logger.Message(stringLiteral: message)))
        outgoing.append((BusStream.alerts.rawValue, Self.alert("trading_state", message, at: now)))
    }

    /// Saves the state, then publishes: a crash in between redelivers the batch, which is then recognised.
    /// `onlyMarks`: nothing but marks changed, saved only once the oldest unsaved change is `markSaveDelay` old.
    private func finish(_ outgoing: [(stream: String, payload: String)], onlyMarks: Bool = false) async throws {
        if onlyMarks {
            let now = ContinuousClock.now
            if unsavedSince == nil { unsavedSince = now }
            if let since = unsavedSince, now - since >= markSaveDelay { try await save() }
        } else {
            try await save()
            try await publisher.publish(outgoing)
        }
        gauges.update(status())
    }

    private func save() async throws {
        let encoded = try EventCoding.encoder.encode(state)
        // Changes made while the SET is in flight (the actor is reentrant) are not in `encoded`: they start a new wait.
        let unsaved = unsavedSince
        unsavedSince = nil
        do {
            try await store.save(Array(encoded))
        } catch {
            if let unsaved { unsavedSince = min(unsaved, unsavedSince ?? unsaved) }
            throw error
        }
    }

    /// The next multiple of `interval` since the epoch after `date` (hourly snapshots land on the hour).
    static func boundary(after date: Date, interval: TimeInterval) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / interval).rounded(.down) * interval + interval)
    }

    static func alert(_ kind: String, _ message: String, at time: Date) -> String {
        let alert: [String: String] = ["kind": kind, "message": message, "service": "cdb_risk", "event_time": EventCoding.timestamp(time)]
        return EventEnvelope.encode(alert)
    }
}

/// The risk figures Prometheus scrapes and alerts on.
struct RiskGauges: Sendable {
    let equity, dailyDrawdown, fromPeak, exposure, openPositions, halted, dayHalted: Gauge

    init(_ metrics: ServiceMetrics) {
        equity = metrics.gauge("equity_usd", help: "Portfolio equity including unrealized PnL")
        dailyDrawdown = metrics.gauge("daily_drawdown_ratio", help: "Drawdown from the equity at 00:00 UTC (fraction)")
        fromPeak = metrics.gauge("drawdown_from_peak_ratio", help: "Drawdown from peak equity (fraction)")
        exposure = metrics.gauge("total_exposure_ratio", help: "Sum of open notionals over equity (fraction)")
        openPositions = metrics.gauge("open_positions", help: "Open positions")
        halted = metrics.gauge("circuit_breaker_tripped", help: "1 while HALTED")
        dayHalted = metrics.gauge("daily_drawdown_halted", help: "1 while DAY_HALTED")
    }

    func update(_ status: RiskStatus) {
        equity.set(to: status.equity)
        dailyDrawdown.set(to: status.dailyDrawdown)
        fromPeak.set(to: status.drawdownFromPeak)
        exposure.set(to: status.totalExposurePct)
        openPositions.set(to: Double(status.openPositions.count))
        halted.set(to: status.tradingState == TradingState.halted.rawValue ? 1 : 0)
        dayHalted.set(to: status.tradingState == TradingState.dayHalted.rawValue ? 1 : 0)
    }
}
