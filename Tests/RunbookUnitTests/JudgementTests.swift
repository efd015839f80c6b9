import Foundation
import HTTPClient
@testable import Runbook
import Testing

@Suite("Conditions over JSON documents")
struct ConditionTests {
    let status = JSONValue(json: Array(#"{"status":"ok","daily_drawdown":0.049,"total_exposure_pct":0.3,"dependencies":{"redis":{"status":"up"}},"halted":false}"#.utf8))!

    @Test("comparisons hold or fail exactly at the boundary", arguments: [
        ("daily_drawdown < 0.05", true), ("daily_drawdown < 0.049", false), ("daily_drawdown <= 0.049", true),
        (".total_exposure_pct < 0.30", false), ("total_exposure_pct <= 0.30", true), ("total_exposure_pct >= 0.3", true),
        ("status == 'ok'", true), ("status == \"ok\"", true), ("status != 'ok'", false),
        ("dependencies.redis.status == 'up'", true), ("halted == false", true), ("halted == true", false),
    ])
    func boundaries(text: String, holds: Bool) throws {
        #expect(try Condition(parsing: text).evaluate(status).holds == holds)
    }

    @Test("a missing field fails and says so; it never passes")
    func missingField() throws {
        let result = try Condition(parsing: "equity > 0").evaluate(status)
        #expect(!result.holds)
        #expect(result.found == "equity is missing")
        #expect(try Condition(parsing: "service != null").evaluate(status).holds == false)
    }

    @Test("SQL text compares as a number")
    func sqlText() throws {
        let row = JSONValue.object(["count": .string("5"), "flag": .string("t")])
        #expect(try Condition(parsing: "count >= 5").evaluate(row).holds)
        #expect(try !Condition(parsing: "count > 5").evaluate(row).holds)
        #expect(try Condition(parsing: "flag == true").evaluate(row).holds)
    }

    @Test("malformed conditions are refused with the reason", arguments: [
        ("status = 'ok'", "has no comparison"), ("status == ok", "is not a number, a quoted string"),
        ("status < 'ok'", "strings can only be compared"), ("== 1", "is not a field path"),
    ])
    func malformed(text: String, reason: String) {
        #expect(throws: ConditionSyntaxError.self) { try Condition(parsing: text) }
        do { _ = try Condition(parsing: text) } catch { #expect(error.message.contains(reason)) }
    }
}

func result(_ id: String, _ status: StepStatus, _ severity: Severity = .critical, playbook: String? = nil) -> StepResult {
    StepResult(id: id, title: id.capitalized, seed: "2.5", severity: severity, status: status, detail: "\(id) \(status)",
               attempts: 1, startedAt: Date(), durationMs: 1, figures: [:], playbook: playbook)
}

@Suite("GO / NO-GO and the alarm table")
struct VerdictTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func preflight(_ results: [StepResult], hoursAgo: Double) -> PhaseRecord {
        let finished = now.addingTimeInterval(-hoursAgo * 3600)
        return PhaseRecord(phase: .preflight, verdict: PhaseVerdict.verdict(results), startedAt: finished, finishedAt: finished, results: results)
    }

    @Test("GO when every critical item holds; failed warnings are listed but do not block")
    func go() {
        let decision = GoDecision(preflight: preflight([result("env", .pass), result("coverage", .fail, .warning)], hoursAgo: 2),
                                  fresh: [result("containers", .pass), result("grafana", .skip, .warning)], maxAge: .seconds(26 * 3600), now: now)
        #expect(decision.go)
        #expect(decision.verdict == .go)
        #expect(decision.warnings.count == 2)
    }

    @Test("NO-GO lists every failed critical item, a skipped one too")
    func noGo() {
        let decision = GoDecision(preflight: preflight([result("env", .fail), result("backup", .skip)], hoursAgo: 2),
                                  fresh: [result("containers", .fail)], maxAge: .seconds(26 * 3600), now: now)
        #expect(!decision.go)
        #expect(decision.reasons.count == 3)
        #expect(decision.reasons.contains { $0.hasPrefix("preflight backup") })
    }

    @Test("a preflight older than the allowed age is NO-GO, as is none at all")
    func stalePreflight() {
        let old = GoDecision(preflight: preflight([result("env", .pass)], hoursAgo: 27), fresh: [], maxAge: .seconds(26 * 3600), now: now)
        #expect(!old.go)
        #expect(old.reasons.first?.contains("older than the allowed 26h") == true)
        let none = GoDecision(preflight: nil, fresh: [result("containers", .pass)], maxAge: .seconds(3600), now: now)
        #expect(!none.go)
        #expect(none.reasons == ["preflight: no preflight on record: run cdbctl preflight first"])
    }

    @Test("failed monitor steps become alarms with their severity and playbook; skips raise none")
    func alarms() {
        let alarms = AlarmTable.alarms(from: [
            result("containers", .fail, playbook: "container-crash"), result("memory", .fail, .warning, playbook: "resource-shortage"),
            result("grafana", .skip, .warning), result("database", .pass, playbook: "database-outage"),
        ])
        #expect(alarms.map(\.step) == ["containers", "memory"])
        #expect(alarms.map(\.playbook) == ["container-crash", "resource-shortage"])
        #expect(AlarmTable.verdict(alarms) == .critical)
        #expect(AlarmTable.verdict(Array(alarms.dropFirst())) == .warning)
        #expect(AlarmTable.verdict([]) == .ok)
    }
}

@Suite("Environment rules")
struct EnvRuleTests {
    let rules = [
        EnvRule(name: "POSTGRES_PASSWORD", required: true, kind: .string, minimum: nil, maximum: nil, minLength: 8, expected: nil),
        EnvRule(name: "POSTGRES_PORT", required: true, kind: .port, minimum: nil, maximum: nil, minLength: nil, expected: nil),
        EnvRule(name: "MAX_DAILY_DRAWDOWN_PCT", required: true, kind: .decimal, minimum: 0.01, maximum: 0.5, minLength: nil, expected: nil),
        EnvRule(name: "DATA_STALE_TIMEOUT_SEC", required: true, kind: .integer, minimum: 10, maximum: 300, minLength: nil, expected: nil),
    ]

    @Test("values at the range's edges pass")
    func edges() {
        let outcome = EnvRuleCheck.evaluate(rules, environment: [
            "POSTGRES_PASSWORD": "12345678", "POSTGRES_PORT": "5432", "MAX_DAILY_DRAWDOWN_PCT": "0.5", "DATA_STALE_TIMEOUT_SEC": "10",
        ])
        #expect(outcome.status == .pass)
    }

    @Test("every problem is named in one message, and the password is never printed")
    func problems() {
        let outcome = EnvRuleCheck.evaluate(rules, environment: [
            "POSTGRES_PASSWORD": "short", "POSTGRES_PORT": "abc", "MAX_DAILY_DRAWDOWN_PCT": "0.51",
        ])
        #expect(outcome.status == .fail)
        #expect(outcome.detail.contains("POSTGRES_PASSWORD: must be at least 8 characters, has 5"))
        #expect(outcome.detail.contains("POSTGRES_PORT: expected an integer, got 'abc'"))
        #expect(outcome.detail.contains("MAX_DAILY_DRAWDOWN_PCT: '0.51' is outside 0.01–0.5"))
        #expect(outcome.detail.contains("DATA_STALE_TIMEOUT_SEC is not set"))
        #expect(!outcome.detail.contains("short"))
    }
}

@Suite("Output parsing")
struct OutputParsingTests {
    @Test("Swift Testing and XCTest verdict lines are counted")
    func testCounts() {
        let output = """
            ✔ Test "a" passed after 0.1 seconds.
            ✔ Test "b" passed after 0.2 seconds.
            ✘ Test "c" failed after 0.3 seconds with 1 issue.
            ➜ Test "d" skipped: "needs docker"
            Test Case '-[X.Y testZ]' passed (0.001 seconds).
            ✘ Test run with 4 tests in 1 suites failed after 1 seconds with 1 issue.
            """
        var expected = TestOutputSummary(passed: 3, failed: 1, skipped: 1)
        expected.failedNames = ["c"]
        #expect(TestOutputSummary(parsing: output) == expected)
    }
}
