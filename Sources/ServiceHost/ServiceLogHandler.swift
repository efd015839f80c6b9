#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import PlainText
import Primitives
import Logging

/// One log line per event on stderr: `2026-01-02T03:04:05.678Z ERROR cdb_risk: message key=value`.
///
/// Levels are upper-case words because the runbook greps for `ERROR|CRITICAL`. Every configured
/// secret is replaced by `***` in messages and metadata, whoever logs it.
public struct ServiceLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let secrets: [String]

    public init(label: String, level: Logger.Level, secrets: [String]) {
        self.label = label
        self.logLevel = level
        // Longest first, so a secret that contains another is masked whole.
        self.secrets = secrets.filter { $0.count >= 3 }.sorted { $0.count > $1.count }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = Self.timestamp() + " " + event.level.word + " " + label + ": " + redact("\(event.message)")
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() {
            line += " \(key)=\(redact("\(merged[key]!)"))"
        }
        line += "\n"
        StandardError.write(line)
    }

    /// `text` with every configured secret replaced by `***`.
    public func redact(_ text: String) -> String {
        secrets.reduce(text) { $0.replacing($1, with: "***") }
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let date = "\((parts.tm_year + 1900).zeroPadded(4))-\((parts.tm_mon + 1).zeroPadded(2))-\(parts.tm_mday.zeroPadded(2))"
        let time = "\(parts.tm_hour.zeroPadded(2)):\(parts.tm_min.zeroPadded(2)):\(parts.tm_sec.zeroPadded(2)).\((now.tv_nsec / 1_000_000).zeroPadded(3))"
        return date + "T" + time + "Z"
    }
}

extension Logger.Level {
    /// The level as the runbook's greps expect it.
    var word: String {
        switch self {
        case .trace: return "TRACE"
        case .debug: return "DEBUG"
        case .info: return "INFO"
        case .notice: return "NOTICE"
        case .warning: return "WARNING"
        case .error: return "ERROR"
        case .critical: return "CRITICAL"
        }
    }
}
