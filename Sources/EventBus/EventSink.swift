/// Where a stage's events go: the bus (`EventPublisher`), or an in-memory bus in the stage tests.
///
/// A stage publishes a batch only after deciding it and returns once it is out, so its consumer may then
/// acknowledge the input; whoever implements this keeps that promise (the events are stored, in order).
public protocol EventSink: Sendable {
    /// Publishes `payload`s (JSON text) on their streams, in order; returns their entry ids in order.
    @discardableResult
    func publish(_ events: [(stream: String, payload: String)]) async throws -> [String]
}

extension EventPublisher: EventSink {}
