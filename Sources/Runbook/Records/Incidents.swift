import DockerClient
import Foundation
import Primitives

/// One incident as the history keeps it: which playbook, for which service, when.
public struct IncidentEntry: Sendable, Codable, Equatable {
    public var id: String
    public var kind: String
    public var service: String
    public var time: Date
    public var outcome: String?

    public init(id: String, kind: String, service: String, time: Date, outcome: String?) {
        self.id = id
        self.kind = kind
        self.service = service
        self.time = time
        self.outcome = outcome
    }
}

/// `reports/incidents/history.jsonl`: every incident across runs, so a second crash is recognised as one.
public struct IncidentHistory: Sendable {
    public var path: String

    public init(reportsDirectory: String) {
        path = reportsDirectory + "/incidents/history.jsonl"
    }

    public func entries() -> [IncidentEntry] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? ReportsDirectory.decoder.decode(IncidentEntry.self, from: Data($0.utf8)) }
    }

    public func append(_ entry: IncidentEntry) throws {
        let incidents = URL(fileURLWithPath: path).deletingLastPathComponent()
        try OperatorFiles.createPrivateDirectory(incidents.path, under: incidents.deletingLastPathComponent().path)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        var line = try encoder.encode(entry)
        line.append(UInt8(ascii: "\n"))
        try OperatorFiles.appendPrivateLine(line, to: path)
    }

    /// Earlier incidents of the same kind and service within `window` before `entry`.
    public func earlier(than entry: IncidentEntry, within window: Duration) -> [IncidentEntry] {
        let seconds = window.seconds
        return entries().filter {
            $0.id != entry.id && $0.kind == entry.kind && $0.service == entry.service
                && $0.time <= entry.time && entry.time.timeIntervalSince($0.time) <= seconds
        }
    }
}

/// The incident a playbook run belongs to: where its evidence goes and what the history says.
public struct IncidentContext: Sendable {
    public var entry: IncidentEntry
    public var directory: String
    public var history: IncidentHistory

    public init(entry: IncidentEntry, directory: String, history: IncidentHistory) {
        self.entry = entry
        self.directory = directory
        self.history = history
    }
}

/// The service a playbook acts on when the operator names none: the one the seed's symptom points at.
public enum IncidentTarget {
    /// Fixed targets (the database, the feed); nil where it depends on which container is in trouble.
    public static func fixedService(for kind: IncidentKind) -> String? {
        switch kind {
        case .databaseOutage, .databaseRestore: return "cdb_postgres"
        case .dataStop: return "cdb_ws"
        case .riskLimit: return "cdb_execution"
        case .resourceShortage: return "cdb_grafana"
        case .containerCrash, .serviceUnresponsive: return nil
        }
    }

    /// The first container that is not running (for a crash) or not healthy (for an unresponsive service).
    public static func troubled(_ containers: [ContainerState], for kind: IncidentKind) -> ContainerState? {
        switch kind {
        case .containerCrash: return containers.first { $0.state != "running" } ?? containers.first { $0.health == "unhealthy" }
        default: return containers.first { $0.state != "running" || ($0.health != nil && $0.health != "healthy") }
        }
    }
}
