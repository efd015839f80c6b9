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
/// It consumes three streams (market data for marks, signals to judge, execution results to book) and keeps
/// everything in one actor, so every decision sees one consistent portfolio. Exactly once: a batch's decisions
/// (orders, rejections, trades, snapshots, alerts) are committed in one transaction with the state they leave
/// (saved in Redis under `stateKey`) and the position reached on each stream; an entry redelivered after a crash
/// is at or below that position and skipped, and after a failed commit the stage rereads what Redis holds before
/// it goes on. Batches pass one at a time (`SerialGate`): a batch's change and its commit never interleave with
/// another's. A market-data batch that only moved marks (and the equity peak with them) is not committed on its
/// own: such changes go out once the oldest is `markSaveDelay` old, with the next batch or the once-a-second
/// `tick()`, and at a graceful stop (saving the whole state per tick made the signals queue behind the saves).
/// A crash loses at most those marks: the next ticks restore them; a peak reached and lost again inside that
/// window is forgotten, so the circuit breaker measures from the earlier peak.
///
/// The saved state holds the account and the trading state, never the policy: limits, sizing and the fill model
/// come from the settings at every start, and a start under changed settings logs and publishes what changed. A
/// saved account that started with another capital than `STARTING_CAPITAL_USD` is refused: a new capital needs a
/// new account (`cdbctl risk reset-account --yes`).
public actor RiskStage {
    /// Everything that must survive a restart.
    struct State: Codable {
        var engine: RiskEngine
        var seenSignals = RecentIDs(capacity: 50_000)
        var appliedResults = RecentIDs(capacity: 50_000)
        var applied = AppliedPositions()
        /// Set from the first event seen: in market mode the clock starts wherever the data starts.
        var nextSnapshotAt: Date?
        var marketTime: Date?
        /// The policy the last commit was made under: a start under another says what changed.
        var policyInForce: RiskPolicy?
        /// Snapshots published so far; numbers each snapshot's id.
        var snapshotsPublished = 0

        init(engine: RiskEngine) {
            self.engine = engine
        }

        // A state saved before the applied positions, the policy and the snapshot count existed still loads.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            engine = try container.decode(RiskEngine.self, forKey: .engine)
            seenSignals = try container.decode(RecentIDs.self, forKey: .seenSignals)
            appliedResults = try container.decode(RecentIDs.self, forKey: .appliedResults)
            applied = try container.decodeIfPresent(AppliedPositions.self, forKey: .applied) ?? AppliedPositions()
            nextSnapshotAt = try container.decodeIfPresent(Date.self, forKey: .nextSnapshotAt)
            marketTime = try container.decodeIfPresent(Date.self, forKey: .marketTime)
            policyInForce = try container.decodeIfPresent(RiskPolicy.self, forKey: .policyInForce)
            snapshotsPublished = try container.decodeIfPresent(Int.self, forKey: .snapshotsPublished) ?? 0
        }
    }

    public static let stateKey = SavedStateKeys.riskStage

    private var state: State
    /// Set when a commit failed: what Redis holds may be ahead of or behind `state`, so it is read again.
    private var mustReload = false
    private let gate = SerialGate()
    private let policy: RiskPolicy
    private let startingCapital: Double
    private let startedAt: Date
    private let clock: TradingClock
    private let snapshotInterval: TimeInterval
    private let markSaveDelay: Duration
    private let marketWait: Duration
    /// When the oldest change not yet in Redis was made; nil while the saved state is current.
    private var unsavedSince: ContinuousClock.Instant?
    /// Alerts about the state as loaded (changed settings), sent with the next commit.
    private var announcements: [(stream: String, payload: String)] = []
    private let publisher: any EventSink
    private let store: any StateStore
    private let wallTime: WallTime
    private let logger: Logger
    private let gauges: RiskGauges
    private let marketWaitsExpired: Counter

    /// Loads the saved account from `store` under `policy`, or opens a fresh one with `startingCapital` (its first UTC
    /// day that of `startedAt`). `markSaveDelay`: how long changes that only move marks may stay unsaved (zero saves
    /// after every batch). `marketWait`: with the market clock, how long a signal may wait for the marks to reach its time.
    public init(
        policy: RiskPolicy, startingCapital: Double, startedAt: Date, clock: TradingClock, snapshotInterval: Duration,
        markSaveDelay: Duration, marketWait: Duration, store: any StateStore, publisher: any EventSink, metrics: ServiceMetrics,
        logger: Logger, wallTime: @escaping WallTime = TradingClock.machineTime
    ) async throws {
        self.policy = policy
        self.startingCapital = startingCapital
        self.startedAt = startedAt
        self.clock = clock
        self.snapshotInterval = snapshotInterval.seconds
        self.markSaveDelay = markSaveDelay
        self.marketWait = marketWait
        self.publisher = publisher
        self.store = store
        self.wallTime = wallTime
        self.logger = logger
        self.gauges = RiskGauges(metrics)
        self.marketWaitsExpired = metrics.counter(
            "market_clock_waits_expired_total", help: "Market clock: signals judged before the marks reached their time")
        self.state = State(engine: RiskEngine(
            limits: policy.limits, sizer: policy.sizer, fillModel: policy.fillModel, startingCapital: startingCapital, startedAt: startedAt))
        do {
            try await reload()
        } catch let error as RedisError {
            StageState.deferLoad(key: Self.stateKey, error: error, logger: logger)
            mustReload = true
        }
        // Announced at once; should Redis fail right now, the first batch rereads the state and announces it then.
        if !announcements.isEmpty { try? await commit([], state) }
        gauges.update(status())
    }

    /// Replaces the state with the one Redis holds (a fresh account when none is saved).
    private func reload() async throws {
        let decoder = EventCoding.makeDecoder(userInfo: [RiskPolicy.decodingKey: policy])
        guard let saved = try await StageState.load(State.self, key: Self.stateKey, from: store, decoder: decoder) else {
            state = State(engine: RiskEngine(
                limits: policy.limits, sizer: policy.sizer, fillModel: policy.fillModel, startingCapital: startingCapital, startedAt: startedAt))
            state.policyInForce = policy
            unsavedSince = nil
            announcements = []
            return
        }
        let savedCapital = saved.engine.portfolio.startingCapital
        guard savedCapital == startingCapital else {
            throw StageStateError(key: Self.stateKey, reason: """
                the saved account started with \(savedCapital.fixed(2)) USD but STARTING_CAPITAL_USD is \(startingCapital.fixed(2)); \
                an account keeps its capital. Set STARTING_CAPITAL_USD back to \(savedCapital.fixed(2)), or start a fresh account \
                with `cdbctl risk reset-account --yes` (it backs up the database first)
                """)
        }
        state = saved
        unsavedSince = nil
        announcements = []
        logger.info("risk state restored", metadata: ["key": "\(Self.stateKey)"])
        if let previous = saved.policyInForce, previous != policy {
            let message = "risk settings changed since the last run: \(policy.changes(since: previous).joined(separator: ", ")); enforced from now on"
            logger.notice(Logger.Message(stringLiteral: message))
            state.policyInForce = policy
            announcements.append((BusStream.alerts.rawValue, Self.alert("settings_changed", message, at: now(in: state))))
        }
    }

    /// Runs `body` alone (see `SerialGate`), after rereading the state if the last commit failed.
    private func exclusively<T>(_ body: () async throws -> T) async throws -> T {
        await gate.enter()
        do {
            if mustReload {
                try await reload()
                mustReload = false
            }
            let result = try await body()
            await gate.leave()
            return result
        } catch {
            await gate.leave()
            throw error
        }
    }

    /// The latest moment known in `state`: wall time, or in market mode the newest tick seen.
    private func now(in state: State) -> Date {
        clock == .market ? (state.marketTime ?? wallTime()) : wallTime()
    }

    /// Marks the portfolio with each tick, sells what drifted past a limit, snapshots when due.
    public func handleMarketData(_ entries: [StreamEntry]) async throws {
        try await exclusively {
            var next = state
            var outgoing: [(stream: String, payload: String)] = []
            let day = next.engine.currentUTCDay
            var marked = false
            for entry in entries where next.applied.admit(entry, of: BusStream.marketData.rawValue) {
                // A cdbctl probe only proves the flow; its price and time must not move marks or the market clock.
                guard case .success(let tick) = EventEnvelope.decode(MarketTick.self, from: entry), tick.source != .probe else { continue }
                marked = true
                if clock == .market { next.marketTime = max(next.marketTime ?? tick.eventTime, tick.eventTime) }
                let before = next.engine.tradingState
                next.engine.mark(tick)
                noteStateChange(from: before, in: next, &outgoing)
                let moment = clock.now(for: tick.eventTime, wallTime: wallTime)
                for order in next.engine.driftReductions(now: moment) {
                    outgoing.append((BusStream.orders.rawValue, EventEnvelope.encode(order)))
                }
                snapshotIfDue(at: moment, in: &next, &outgoing)
            }
            // A new UTC day resets the day-start equity and lifts a day halt: a decision, saved at once.
            try await finish(next, outgoing, onlyMarks: outgoing.isEmpty && next.engine.currentUTCDay == day || !marked)
        }
    }

    /// Judges each new signal: an order, or a rejection with its reason.
    public func handleSignals(_ entries: [StreamEntry]) async throws {
        var index = entries.startIndex
        while index < entries.endIndex {
            // With the market clock, the marks must reach the next signal's time first; the gate stays open meanwhile,
            // so the market-data batches that move them run.
            if clock == .market, !isApplied(entries[index], of: .signals), let time = Self.signalTime(entries[index]) {
                try await awaitMarks(through: time)
            }
            index = try await exclusively {
                var next = state
                var outgoing: [(stream: String, payload: String)] = []
                var position = index
                repeat {
                    let entry = entries[position]
                    position += 1
                    guard next.applied.admit(entry, of: BusStream.signals.rawValue),
                          case .success(let signal) = EventEnvelope.decode(TradingSignal.self, from: entry),
                          next.seenSignals.insert(signal.id)
                    else { continue }
                    let before = next.engine.tradingState
                    switch next.engine.evaluate(signal: signal, now: clock.now(for: signal.eventTime, wallTime: wallTime)) {
                    case .approved(let order):
                        outgoing.append((BusStream.orders.rawValue, EventEnvelope.encode(order)))
                    case .rejected(let rejection):
                        outgoing.append((BusStream.riskEvents.rawValue, EventEnvelope.encode(rejection)))
                    }
                    noteStateChange(from: before, in: next, &outgoing)
                } while position < entries.endIndex && marksCover(entries[position], in: next)
                // Redeliveries only: nothing changed, nothing to commit.
                if next.applied != state.applied || !outgoing.isEmpty { try await finish(next, outgoing) }
                return position
            }
        }
    }

    /// Whether a committed batch already applied `entry` (a redelivery): nothing to wait for, it is skipped.
    private func isApplied(_ entry: StreamEntry, of stream: BusStream) -> Bool {
        guard let id = StreamID(entry.id), let position = state.applied.position(of: stream.rawValue) else { return false }
        return id <= position
    }

    private static func signalTime(_ entry: StreamEntry) -> Date? {
        guard case .success(let signal) = EventEnvelope.decode(TradingSignal.self, from: entry) else { return nil }
        return signal.eventTime
    }

    /// Whether `entry` may be judged on the marks `state` holds (always with the wall clock).
    private func marksCover(_ entry: StreamEntry, in state: State) -> Bool {
        guard clock == .market, let time = Self.signalTime(entry) else { return true }
        return time <= (state.marketTime ?? .distantPast)
    }

    /// With the market clock, waits (up to `marketWait`) until the marks reached `time`. In a replay this stage
    /// reads market data and signals at different paces; a signal judged on older marks could pass as a BUY
    /// after the moment the circuit breaker or the daily stop had halted trading.
    private func awaitMarks(through time: Date) async throws {
        let deadline = ContinuousClock.now + marketWait
        while (state.marketTime ?? .distantPast) < time {
            guard ContinuousClock.now < deadline else {
                marketWaitsExpired.increment()
                logger.warning("market data did not reach the signal's time; judging it on the marks known", metadata: [
                    "signal_time": "\(EventCoding.timestamp(time))"])
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Books execution results; closed round trips go out as trades, followed by a fresh snapshot.
    public func handleResults(_ entries: [StreamEntry]) async throws {
        try await exclusively {
            var next = state
            var outgoing: [(stream: String, payload: String)] = []
            for entry in entries where next.applied.admit(entry, of: BusStream.orderResults.rawValue) {
                guard case .success(let result) = EventEnvelope.decode(OrderResult.self, from: entry),
                      next.appliedResults.insert(result.id)
                else { continue }
                let before = next.engine.tradingState
                let moment = clock.now(for: result.eventTime, wallTime: wallTime)
                for trade in next.engine.apply(fill: result, now: moment) {
                    outgoing.append((BusStream.trades.rawValue, EventEnvelope.encode(trade)))
                }
                noteStateChange(from: before, in: next, &outgoing)
                if result.status == .filled {
                    // Stamped with the time of the marks it is valued at: in a market-clock replay those can be later
                    // than the order, and a snapshot must not show a state (say HALTED) before the moment it arose.
                    outgoing.append(Self.snapshot(at: max(moment, now(in: next)), in: &next))
                }
            }
            if next.applied != state.applied || !outgoing.isEmpty { try await finish(next, outgoing) }
        }
    }

    /// Publishes the periodic snapshot when its time has come; on a timer, for a quiet live market
    /// (in market mode snapshots follow the ticks instead). Saves marks that waited long enough.
    public func tick() async throws {
        try await exclusively {
            var next = state
            var outgoing: [(stream: String, payload: String)] = []
            if clock == .wall { snapshotIfDue(at: wallTime(), in: &next, &outgoing) }
            guard !outgoing.isEmpty || unsavedSince != nil else {
                // At most the first due time was set: worked out again after a restart, not worth a commit.
                state = next
                return
            }
            try await finish(next, outgoing, onlyMarks: outgoing.isEmpty)
        }
    }

    /// Saves whatever is not saved yet; at a graceful stop.
    public func flush() async throws {
        try await exclusively {
            if unsavedSince != nil { try await commit([], state) }
        }
    }

    /// Operator action behind `POST /circuit-breaker/reset`.
    public func resetCircuitBreaker() async throws -> RiskStatus {
        try await exclusively {
            var next = state
            next.engine.resetCircuitBreaker(at: now(in: next))
            logger.warning("circuit breaker reset by operator")
            try await finish(next, [(BusStream.alerts.rawValue, Self.alert("circuit_breaker_reset", "operator reset the circuit breaker", at: now(in: next)))])
            return status()
        }
    }

    /// What `/status` shows; the runbook reads `.daily_drawdown`.
    public func status() -> RiskStatus {
        let engine = state.engine
        let portfolio = engine.portfolio
        let equity = portfolio.equity
        let now = now(in: state)
        return RiskStatus(
            equity: equity, cash: portfolio.cash, dailyDrawdown: engine.dailyDrawdownPct,
            drawdownFromPeak: engine.drawdownFromPeakPct,
            totalExposurePct: equity > 0 ? portfolio.totalExposure / equity : 0,
            tradingState: engine.tradingState.rawValue, openPositions: engine.snapshot(now: now).positions,
            pendingOrders: engine.pendingBuys.count + engine.pendingSells.count, limits: engine.limits,
            approved: engine.counters.approved, rejected: engine.counters.totalRejected,
            clock: clock.rawValue, time: now)
    }

    private func snapshotIfDue(at current: Date, in next: inout State, _ outgoing: inout [(stream: String, payload: String)]) {
        guard let due = next.nextSnapshotAt else {
            next.nextSnapshotAt = Self.boundary(after: current, interval: snapshotInterval)
            return
        }
        guard current >= due else { return }
        outgoing.append(Self.snapshot(at: current, in: &next))
        next.nextSnapshotAt = Self.boundary(after: current, interval: snapshotInterval)
    }

    /// The next snapshot as of `time`, numbered: one id per distinct snapshot.
    private static func snapshot(at time: Date, in next: inout State) -> (stream: String, payload: String) {
        next.snapshotsPublished += 1
        return (BusStream.portfolioSnapshots.rawValue, EventEnvelope.encode(next.engine.snapshot(now: time, sequence: next.snapshotsPublished)))
    }

    private func noteStateChange(from before: TradingState, in next: State, _ outgoing: inout [(stream: String, payload: String)]) {
        let after = next.engine.tradingState
        guard after != before else { return }
        let message = "trading state \(before.rawValue) → \(after.rawValue) (daily drawdown \((next.engine.dailyDrawdownPct * 100).fixed(2)) %, from peak \((next.engine.drawdownFromPeakPct * 100).fixed(2)) %)"
        (after == .active ? logger.notice(Logger.Message(stringLiteral: message)) : logger.critical(Logger.Message(stringLiteral: message)))
        outgoing.append((BusStream.alerts.rawValue, Self.alert("trading_state", message, at: now(in: next))))
    }

    /// Commits `next` with `outgoing`; `onlyMarks`: nothing but marks changed, committed only once the oldest
    /// uncommitted change is `markSaveDelay` old.
    private func finish(_ next: State, _ outgoing: [(stream: String, payload: String)], onlyMarks: Bool = false) async throws {
        if onlyMarks {
            state = next
            let moment = ContinuousClock.now
            let since = unsavedSince ?? moment
            unsavedSince = since
            if moment - since >= markSaveDelay { try await commit([], next) }
        } else {
            try await commit(outgoing, next)
        }
        gauges.update(status())
    }

    /// Stores `next` and `events` in one transaction; only then is `next` the state.
    private func commit(_ events: [(stream: String, payload: String)], _ next: State) async throws {
        do {
            try await publisher.commit(announcements + events, state: StageState.saved(next, key: Self.stateKey))
        } catch {
            mustReload = true
            throw error
        }
        state = next
        unsavedSince = nil
        announcements = []
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
