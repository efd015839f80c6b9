import ServiceHost
import StackContract
import Testing

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
        // Far below the check's 30 s; generous above 300 ms because the whole suite starts at once on two cores.
        #expect(ContinuousClock.now - start < .seconds(20))
    }
}
