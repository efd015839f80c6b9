#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlainText
import Prometheus

/// The Prometheus registry of one service; every metric name gets the `cdb_` prefix.
public struct ServiceMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let service: String

    public init(service: String, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.service = service
    }

    /// A monotonically increasing count, named `cdb_<name>`.
    public func counter(_ name: String, help: String, labels: [(String, String)] = []) -> Counter {
        registry.makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    /// A value that goes up and down, named `cdb_<name>`.
    public func gauge(_ name: String, help: String, labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
    }

    /// A latency histogram in seconds, named `cdb_<name>`, with buckets from 100 µs to 10 s.
    public func latencyHistogram(_ name: String, help: String, labels: [(String, String)] = []) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: Self.descriptor(name, help), labels: labels,
            buckets: [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
                      .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                      .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10)])
    }

    /// The latency histogram of one hop, `cdb_hop_latency_seconds{from=…}`: from the moment an event arrived
    /// `from` a stream (its XADD) or, for cdb_ws, the exchange, until this service finished with it. One
    /// name for every service, so one dashboard query shows the whole chain hop by hop.
    public func hopLatency(from source: String) -> DurationHistogram {
        latencyHistogram("hop_latency_seconds", help: "Time from an event's arrival (stream XADD, or the exchange's trade time for cdb_ws) until this service finished with it",
                         labels: [("from", source)])
    }

    /// The text exposition, with the process' resident memory and its memory limit refreshed first.
    public func exposition() -> [UInt8] {
        residentMemory.set(to: Double(Self.residentMemoryBytes()))
        memoryLimit.set(to: Double(Self.memoryLimitBytes()))
        return registry.emitToBuffer()
    }

    private var residentMemory: Gauge {
        registry.makeGauge(descriptor: Self.descriptor("process_resident_memory_bytes", "Resident set size of the service process"),
                           labels: [("service", service)])
    }

    /// What "memory > 90 %" is measured against (the container's mem_limit).
    private var memoryLimit: Gauge {
        registry.makeGauge(descriptor: Self.descriptor("process_memory_limit_bytes", "Memory limit of the service's cgroup (0: none)"),
                           labels: [("service", service)])
    }

    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "cdb", metricName: name, unitName: "", helpText: help)
    }

    /// VmRSS from /proc/self/status (0 where there is no /proc).
    static func residentMemoryBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return kilobytes * 1024
        }
        return 0
    }

    /// The cgroup's memory limit: v2 `memory.max`, else v1 `memory.limit_in_bytes`; 0 when there is none.
    static func memoryLimitBytes() -> Int {
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            // v2 writes "max" when unlimited, v1 a page-rounded Int64.max.
            guard let bytes = Int(text.trimmingWhitespace()), bytes < 1 << 62 else { return 0 }
            return bytes
        }
        return 0
    }
}
