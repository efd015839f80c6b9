import Logging
import Prometheus
import ServiceHost

/// The metrics and logger a stage under test gets: its own registry, and no log output.
public enum StageParts {
    /// A fresh registry per stage, so one test's counters never show in another's.
    public static func metrics(_ service: String = "test") -> ServiceMetrics {
        ServiceMetrics(service: service)
    }

    public static let logger = Logger(label: "stage-test") { _ in SwiftLogNoOpLogHandler() }

    /// The value of the counter or gauge named `name` (with `cdb_` and its labels, as `/metrics` shows it).
    public static func value(of name: String, in metrics: ServiceMetrics) -> Double? {
        let text = String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }
}
