import PostgresClient

/// The `claire_de_binare` database as the db writer sees it: migrated at start-up, written in idempotent batches.
///
/// Every write is keyed by the event id, so a stream redelivery (at-least-once) never duplicates a row, and
/// a batch retried after a lost connection simply lands once.
public final class TradeStore: Sendable {
    /// The connection all writes go through; batches are serialised on it.
    public let connection: PostgresConnection

    /// Wraps an open connection; call `migrate()` before the first `persist(_:)`.
    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Connects to `configuration` and applies the migrations the database lacks: what a writer does at start-up.
    public static func open(
        _ configuration: PostgresConfiguration, migrator: SchemaMigrator = SchemaMigrator()
    ) async throws(TradeStoreError) -> TradeStore {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection(configuration)
        } catch {
            throw .database(operation: "connecting", error)
        }
        let store = TradeStore(connection: connection)
        try await store.migrate(migrator)
        return store
    }

    /// Applies the migrations the database lacks (a no-op when current); see `SchemaMigrator`.
    @discardableResult
    public func migrate(_ migrator: SchemaMigrator = SchemaMigrator()) async throws(TradeStoreError) -> MigrationReport {
        try await migrator.migrate(connection)
    }

    /// Stores a batch in one transaction: each table gets one `COPY` into a temporary table and one
    /// `INSERT … SELECT … ON CONFLICT` — a round trip per table, not per row. Events already stored are
    /// counted as duplicates and change nothing. On error nothing of the batch is stored.
    public func persist(_ batch: [StoredEvent]) async throws(TradeStoreError) -> PersistOutcome {
        guard !batch.isEmpty else { return PersistOutcome() }
        let staged = BatchStaging(batch)
        return try await withStoreErrors("persisting a batch of \(batch.count) events") {
            try await connection.transaction { db in try staged.write(on: db) }
        }
    }

    /// Decodes stream entries one by one, persists those that decode, and reports both: the caller
    /// dead-letters the failures (each names its stream and problem) and acknowledges the rest.
    public func persist(entries: [EncodedEvent]) async throws(TradeStoreError) -> EntriesOutcome {
        var events: [StoredEvent] = []
        var failures: [EntryFailure] = []
        for (index, result) in StoredEvent.decodeEach(entries).enumerated() {
            switch result {
            case .success(let event): events.append(event)
            case .failure(let error): failures.append(EntryFailure(index: index, error: error))
            }
        }
        return EntriesOutcome(persisted: try await persist(events), failures: failures)
    }
}

/// What `TradeStore.persist(entries:)` did: the stored part of the batch, and the entries left out.
public struct EntriesOutcome: Sendable, Equatable {
    /// Counts for the entries that decoded and were written.
    public var persisted: PersistOutcome
    /// Entries that did not decode, in input order; nothing of them was written.
    public var failures: [EntryFailure]
}

/// One stream entry that could not be decoded, to be logged and dead-lettered.
public struct EntryFailure: Sendable, Equatable {
    /// Position of the entry in the input array.
    public var index: Int
    /// What was wrong, naming the stream.
    public var error: TradeStoreError
}
