import Primitives
import ServiceHost
import StackContract
import Testing

@Suite("Deadlines")
struct DeadlineTests {
    @Test("an operation that overruns its deadline yields the fallback at the deadline")
    func fallbackAtDeadline() async {
        let start = ContinuousClock.now
        let value = await withDeadline(.milliseconds(200), fallback: "late") {
            try? await Task.sleep(for: .seconds(30))
            return "done"
        }
        #expect(value == "late")
        // Far below the operation's 30 s; generous above 200 ms because the suite shares two cores.
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test("an operation that finishes in time yields its own value")
    func valueInTime() async {
        #expect(await withDeadline(.seconds(5), fallback: 0) { 42 } == 42)
    }
}

@Suite("Health report")
struct HealthReportTests {
    @Test("a hanging check is reported down after the check timeout")
    func hangingCheck() async {
        let hanging = HealthCheck(name: "feed") {
            try? await Task.sleep(for: .seconds(30))
            return DependencyState(status: .up)
        }
        let endpoints = ServiceEndpoints(service: "x", version: "1", checks: [hanging], metrics: ServiceMetrics(service: "x")) { [String: String]() }
        let start = ContinuousClock.now
        let report = await endpoints.health(timeout: .milliseconds(300))
        #expect(report.status == "down")
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}
