#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import PostgresClient
import Primitives
import Prometheus
import RedisClient
import ServiceHost
import StackContract
import TradeStore

/// cdb_db_writer's work: every persisted stream into PostgreSQL, in idempotent batches.
///
/// A batch is acknowledged only after its transaction committed; a redelivered batch lands once
/// (rows are keyed by event id). An entry that cannot be decoded is logged, counted and acknowledged,
/// so one bad event cannot block its stream forever.
public actor PersistenceStage {
    private let store: TradeStore
    private let logger: Logger
    private let written: Counter
    private let duplicates: Counter
    private let malformed: Counter
    private let batchLatency: DurationHistogram
    private var totals: [String: Int] = [:]
    private var lastBatchAt: Date?

    public init(store: TradeStore, metrics: ServiceMetrics, logger: Logger) {
        self.store = store
        self.logger = logger
        written = metrics.counter("rows_written_total", help: "Events stored in PostgreSQL")
        duplicates = metrics.counter("duplicate_events_total", help: "Redelivered events recognised and skipped")
        malformed = metrics.counter("malformed_events_total", help: "Stream entries that held no readable event", labels: [("stream", "all")])
        batchLatency = metrics.latencyHistogram("batch_commit_seconds", help: "Time to commit one batch")
    }

    /// Stores one batch read from `stream`.
    public func handle(_ entries: [StreamEntry], from stream: BusStream) async throws {
        let encoded = entries.map { EncodedEvent(stream: stream.rawValue, json: $0.fields[BusStream.eventField] ?? []) }
        let start = ContinuousClock.now
        let outcome = try await store.persist(entries: encoded)
        batchLatency.record(ContinuousClock.now - start)
        written.increment(by: Int64(outcome.persisted.inserted + outcome.persisted.merged))
        duplicates.increment(by: Int64(outcome.persisted.duplicates))
        for failure in outcome.failures {
            malformed.increment()
            logger.error("skipping an event that cannot be stored", metadata: [
                "stream": "\(stream.rawValue)", "entry": "\(entries[failure.index].id)", "problem": "\(failure.error)"])
        }
        totals[stream.rawValue, default: 0] += outcome.persisted.inserted + outcome.persisted.merged
        lastBatchAt = Date()
    }

    /// What `/status` shows: rows written per stream since start.
    public func status() -> WriterStatus {
        WriterStatus(rowsStored: totals, lastBatchAt: lastBatchAt)
    }

    /// `/health` probe of the database: `SELECT 1` on a connection of its own.
    public static func databaseCheck(_ configuration: PostgresConfiguration) -> HealthCheck {
        var quick = configuration
        quick.connectTimeoutSeconds = 2
        quick.reconnectWindow = .zero
        let probe = quick
        return HealthCheck(name: "postgres") {
            let start = ContinuousClock.now
            do {
                let db = try await PostgresConnection(probe)
                _ = try await db.query("SELECT 1")
                return DependencyState(status: .up, latencyMs: (ContinuousClock.now - start).milliseconds)
            } catch {
                return DependencyState(status: .down, detail: "\(error)")
            }
        }
    }
}
