import PostgresClient

/// Everything that can go wrong in the trade store: undecodable stream entries, schema migrations, batch writes.
public enum TradeStoreError: Error, CustomStringConvertible, Equatable {
    /// A stream entry came from a stream the store does not persist.
    case unknownStream(String)
    /// A stream entry's JSON is malformed or does not match the event type of its stream.
    case undecodableEvent(stream: String, problem: String)
    /// A stream entry was written with a schema version this build does not understand.
    case unsupportedSchemaVersion(stream: String, eventID: String, version: Int, supported: Int)
    /// A stream entry decoded but carries a value PostgreSQL cannot store (it would fail the whole batch).
    case invalidEvent(stream: String, eventID: String, problem: String)
    /// The database carries migrations newer than this build knows: running old code on it would be a downgrade.
    case databaseNewerThanCode(databaseVersions: [Int], newestKnownVersion: Int)
    /// The database records a migration this build does not contain, below its newest known version.
    case unknownMigrationInDatabase(version: Int, name: String)
    /// A migration's SQL failed; its transaction was rolled back, so the database is still at the previous version.
    case migrationFailed(version: Int, name: String, PostgresError)
    /// A database call failed while doing `operation` (the batch transaction was rolled back as a whole).
    case database(operation: String, PostgresError)

    /// The stream a decoding error is about, so the caller can dead-letter the entry there.
    public var stream: String? {
        switch self {
        case .unknownStream(let stream): return stream
        case .undecodableEvent(let stream, _), .unsupportedSchemaVersion(let stream, _, _, _), .invalidEvent(let stream, _, _):
            return stream
        default: return nil
        }
    }

    /// Whether the failure was losing the database connection: the same batch can simply be retried later.
    public var isConnectionLoss: Bool {
        switch self {
        case .database(_, let error), .migrationFailed(_, _, let error): return error.isConnectionLoss
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .unknownStream(let stream):
            return "trade store: stream '\(stream)' is not persisted (known: \(StoredEvent.streamNames.joined(separator: ", ")))"
        case .undecodableEvent(let stream, let problem):
            return "trade store: undecodable entry on stream '\(stream)': \(problem)"
        case .unsupportedSchemaVersion(let stream, let eventID, let version, let supported):
            return "trade store: event \(eventID) on stream '\(stream)' has schema_version \(version), "
                + "this build reads up to \(supported) (upgrade cdb_db_writer)"
        case .invalidEvent(let stream, let eventID, let problem):
            return "trade store: event \(eventID) on stream '\(stream)' cannot be stored: \(problem)"
        case .databaseNewerThanCode(let versions, let newest):
            return "trade store: the database has schema migrations \(versions.map(String.init).joined(separator: ", ")) "
                + "but this build knows only up to \(newest); refusing to run older code on a newer schema "
                + "(deploy the newer build, or restore a backup taken before the upgrade)"
        case .unknownMigrationInDatabase(let version, let name):
            return "trade store: the database records migration \(version) '\(name)', which this build does not contain "
                + "(was it applied by a different branch?)"
        case .migrationFailed(let version, let name, let error):
            return "trade store: migration \(version) '\(name)' failed and was rolled back: \(error)"
        case .database(let operation, let error):
            return "trade store: \(operation) failed: \(error)"
        }
    }
}
