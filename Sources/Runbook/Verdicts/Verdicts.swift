import Foundation
import Primitives

/// What a phase command decided, by the word written in its record, the audit log and its last output line
/// (`go: NO-GO`); scripts and tests match these words, so they never change.
public enum Verdict: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Every critical step passed (preflight, the phase of a command without a decision of its own).
    case pass = "PASS"
    case fail = "FAIL"
    /// Seed §2.5.
    case go = "GO"
    case noGo = "NO-GO"
    /// Seed §3: the paper run is up.
    case operational = "OPERATIONAL"
    /// Seed §7: the stack is down as planned (or after an emergency).
    case stopped = "STOPPED"
    /// Seed §5: how an incident playbook ended; escalated means the emergency stop followed.
    case resolved = "RESOLVED"
    case unresolved = "UNRESOLVED"
    case escalated = "ESCALATED"
    /// Seed §4.2: a monitor cycle's worst alarm.
    case ok = "OK"
    case warning = "WARNING"
    case critical = "CRITICAL"

    public var description: String { rawValue }

    /// Whether the command that reached this verdict succeeded (exit 0); everything else exits 1.
    public var succeeded: Bool {
        switch self {
        case .pass, .go, .operational, .stopped, .resolved, .ok: true
        case .fail, .noGo, .unresolved, .escalated, .warning, .critical: false
        }
    }
}

/// A phase's verdict from its step results: FAIL when a critical step did not pass.
public enum PhaseVerdict {
    /// Failed or skipped critical steps, each with its reason.
    public static func blocking(_ results: [StepResult]) -> [StepResult] {
        results.filter { $0.severity == .critical && $0.status != .pass }
    }

    public static func verdict(_ results: [StepResult]) -> Verdict {
        blocking(results).isEmpty ? .pass : .fail
    }

    /// `success` when every critical step passed, else FAIL (start: OPERATIONAL, stop: STOPPED).
    public static func verdict(_ results: [StepResult], success: Verdict) -> Verdict {
        verdict(results) == .pass ? success : .fail
    }
}

/// Seed §2.5: GO only if every critical item holds, judged on the last preflight (no older than a bound)
/// plus the go phase's own fresh re-checks.
public struct GoDecision: Sendable, Equatable {
    public var go: Bool
    /// Why not, one line per failed item; empty on GO.
    public var reasons: [String]
    /// Warnings that do not block.
    public var warnings: [String]

    public var verdict: Verdict { go ? .go : .noGo }

    public init(preflight: PhaseRecord?, fresh: [StepResult], maxAge: Duration, now: Date = Date()) {
        var reasons: [String] = []
        var warnings: [String] = []
        if let preflight {
            let age = now.timeIntervalSince(preflight.finishedAt)
            if age > maxAge.seconds {
                reasons.append("preflight: last run \(Self.hours(age)) ago, older than the allowed \(maxAge.secondsText): run cdbctl preflight again")
            }
            for result in preflight.results where result.status != .pass {
                let line = "preflight \(result.id) (seed \(result.seed)): \(result.status.rawValue): \(result.detail)"
                if result.severity == .critical { reasons.append(line) } else { warnings.append(line) }
            }
        } else {
            reasons.append("preflight: no preflight on record: run cdbctl preflight first")
        }
        for result in fresh where result.status != .pass {
            let line = "\(result.id) (seed \(result.seed)): \(result.status.rawValue): \(result.detail)"
            if result.severity == .critical { reasons.append(line) } else { warnings.append(line) }
        }
        go = reasons.isEmpty
        self.reasons = reasons
        self.warnings = warnings
    }

    static func hours(_ seconds: TimeInterval) -> String {
        seconds >= 3600 ? String(format: "%.1f h", seconds / 3600) : "\(Int(seconds / 60)) min"
    }
}

/// Seed §4.2: every monitor step that did not pass raises an alarm with its severity and playbook.
public enum AlarmTable {
    public static func alarms(from results: [StepResult]) -> [Alarm] {
        results.filter { $0.status == .fail }.map {
            Alarm(step: $0.id, severity: $0.severity, message: "\($0.title): \($0.detail)", playbook: $0.playbook)
        }
    }

    /// CRITICAL, WARNING or OK: the cycle's overall state.
    public static func verdict(_ alarms: [Alarm]) -> Verdict {
        if alarms.contains(where: { $0.severity == .critical }) { return .critical }
        return alarms.isEmpty ? .ok : .warning
    }
}
