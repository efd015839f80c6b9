import Primitives
import Testing

@Suite("Backoff")
struct BackoffTests {
    @Test("backoff grows exponentially to its cap, with jitter only shortening waits")
    func growth() {
        var random = SystemRandomNumberGenerator()
        let plain = Backoff(initialDelay: .seconds(1), maxDelay: .seconds(10), multiplier: 2, jitter: 0)
        #expect((1...6).map { plain.delay(afterFailures: $0, using: &random) }
            == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
        let jittered = Backoff(initialDelay: .seconds(1), maxDelay: .seconds(10), multiplier: 2, jitter: 0.5)
        let waits = (0..<200).map { _ in jittered.delay(afterFailures: 3, using: &random) }
        #expect(waits.allSatisfy { $0 > .seconds(2) && $0 <= .seconds(4) })
        #expect(Set(waits).count > 1)
    }

    @Test("a long run of failures stays at the cap instead of overflowing")
    func longRun() {
        let backoff = Backoff(initialDelay: .milliseconds(50), maxDelay: .seconds(1))
        #expect(backoff.delay(afterFailures: 1) == .milliseconds(50))
        #expect(backoff.delay(afterFailures: 10_000) == .seconds(1))
    }
}
