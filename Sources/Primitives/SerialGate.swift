/// Lets one task at a time through, in arrival order: an actor's critical section across its awaits.
///
/// An actor is reentrant: while one call awaits (a Redis round trip), another may run and change the same
/// state. A stage whose change and commit must not interleave with another's passes through a gate.
public actor SerialGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init() {}

    /// Returns once the caller holds the gate; every `enter` needs its `leave`.
    public func enter() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the gate to the next caller waiting, or opens it.
    public func leave() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
