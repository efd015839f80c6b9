import Foundation
import Runbook
import Testing

/// The repository root, found from this file (tests read runbook.yaml and checks/ from there).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Parses `text` as a runbook in the repository root (so checks/ files resolve) and returns its messages.
func validationMessages(_ text: String) -> [String] {
    do {
        _ = try RunbookDefinition.parse(text, file: "runbook.yaml", baseDirectory: repositoryRoot.path)
        return []
    } catch {
        return "\(error)".split(separator: "\n").map(String.init)
    }
}

@Suite("runbook.yaml validation")
struct RunbookValidationTests {
    @Test("the project's runbook.yaml is valid and every phase of §2–4 has steps")
    func projectRunbookIsValid() throws {
        let definition = try RunbookDefinition.load(path: repositoryRoot.appendingPathComponent("runbook.yaml").path)
        for phase in [PhaseName.preflight, .go, .start, .monitor] {
            #expect(!definition.phase(phase).steps.isEmpty, "\(phase) has no steps")
        }
        #expect(definition.settings.preflightMaxAge == .seconds(26 * 3600))
        // Seed §3.2: the stabilisation window is the start phase's `for:` of five minutes.
        #expect(definition.phase(.start).steps.contains { $0.holdFor == .seconds(300) })
    }

    /// Broken runbooks, each with the exact located message it must produce.
    static let corpus: [(name: String, text: String, expected: String)] = [
        ("misspelled check type", """
            version: 1
            phases:
              preflight:
                - { id: a, title: A, seed: "2.1", check: { type: htpp, url: "http://127.0.0.1" } }
            """, "runbook.yaml:4:54: unknown check type 'htpp' (did you mean 'http'?)"),
        ("misspelled step key", """
            version: 1
            phases:
              preflight:
                - id: a
                  title: A
                  seed: "2.1"
                  severty: warning
                  check: { type: wait, duration: 1s }
            """, "runbook.yaml:7:7: step 'a': unknown key 'severty' (did you mean 'severity'?)"),
        ("misspelled phase", """
            version: 1
            phases:
              prefligth: []
            """, "runbook.yaml:3:3: phases: unknown key 'prefligth' (did you mean 'preflight'?)"),
        ("bad duration", """
            version: 1
            phases:
              go:
                - { id: a, title: A, seed: "2.5", timeout: 5 minutes, check: { type: wait, duration: 1s } }
            """, "runbook.yaml:4:48: step 'a'.timeout: expected a duration like 500ms, 30s, 5m or 4h, got '5 minutes'"),
        ("unknown dependency", """
            version: 1
            phases:
              go:
                - { id: a, title: A, seed: "2.5", needs: [bb], check: { type: wait, duration: 1s } }
                - { id: b, title: B, seed: "2.5", check: { type: wait, duration: 1s } }
            """, "runbook.yaml:4:7: step 'a': needs unknown step 'bb' in phase go (did you mean 'b'?)"),
        ("dependency cycle", """
            version: 1
            phases:
              go:
                - { id: a, title: A, seed: "2.5", needs: [b], check: { type: wait, duration: 1s } }
                - { id: b, title: B, seed: "2.5", needs: [a], check: { type: wait, duration: 1s } }
            """, "runbook.yaml:4:7: phase go: steps depend on each other in a cycle: a → b → a"),
        ("duplicate id", """
            version: 1
            phases:
              go:
                - { id: a, title: A, seed: "2.5", check: { type: wait, duration: 1s } }
                - { id: a, title: B, seed: "2.5", check: { type: wait, duration: 1s } }
            """, "runbook.yaml:5:7: step 'a': duplicate id in phase go (first at 4:7)"),
        ("missing check file", """
            version: 1
            phases:
              go:
                - { id: a, title: A, seed: "2.5", check: { type: sql, file: checks/sql/nope.sql } }
            """, "runbook.yaml:4:65: step 'a'.check.file: cannot read 'checks/sql/nope.sql' (looked at \(repositoryRoot.path)/checks/sql/nope.sql)"),
        ("condition without comparison", """
            version: 1
            phases:
              monitor:
                - { id: a, title: A, seed: "4.2", check: { type: http, services: [cdb_risk], expect: ["daily_drawdown = 0.05"] } }
            """, "runbook.yaml:4:91: step 'a'.check.expect: condition 'daily_drawdown = 0.05' has no comparison (use ==, !=, <, <=, > or >=)"),
        ("unknown playbook", """
            version: 1
            phases:
              monitor:
                - { id: a, title: A, seed: "4.2", playbook: container-crsh, check: { type: wait, duration: 1s } }
            """, "runbook.yaml:4:49: step 'a'.playbook: unknown playbook 'container-crsh' (did you mean 'container-crash'?)"),
        ("deleting without destructive", """
            version: 1
            phases:
              reset_account:
                - { id: a, title: A, seed: "5.4", check: { type: redis, op: delete_state, service: cdb_risk } }
            """, "runbook.yaml:4:7: step 'a': its check deletes data, so the step needs destructive: true (refused without --yes and a fresh backup)"),
        ("state of a service that keeps none", """
            version: 1
            phases:
              reset_account:
                - { id: a, title: A, seed: "5.4", destructive: true, check: { type: redis, op: delete_state, service: cdb_db_writer } }
            """, "runbook.yaml:4:107: step 'a'.check.service: 'cdb_db_writer' keeps no saved state (one of cdb_core, cdb_risk, cdb_execution)"),
        ("missing title", """
            version: 1
            phases:
              go:
                - { id: a, seed: "2.5", check: { type: wait, duration: 1s } }
            """, "runbook.yaml:4:7: step 'a': missing required key 'title'"),
        ("unknown severity", """
            version: 1
            phases:
              go:
                - { id: a, title: A, seed: "2.5", severity: high, check: { type: wait, duration: 1s } }
            """, "runbook.yaml:4:49: step 'a'.severity: expected critical or warning, got 'high'"),
        ("unknown key of a check type", """
            version: 1
            phases:
              go:
                - { id: a, title: A, seed: "2.5", check: { type: containers, healty: true } }
            """, "runbook.yaml:4:66: step 'a'.check (containers): unknown key 'healty' (did you mean 'healthy'?)"),
        ("unknown step option", """
            version: 1
            phases:
              stop:
                - { id: a, title: A, seed: "7.1", option: recreate-volumes, check: { type: wait, duration: 1s } }
            """, "runbook.yaml:4:47: step 'a'.option: unknown option 'recreate-volumes' (one of recreate-volume)"),
        ("destructive not a boolean", """
            version: 1
            phases:
              stop:
                - { id: a, title: A, seed: "7.1", destructive: maybe, check: { type: wait, duration: 1s } }
            """, "runbook.yaml:4:52: step 'a'.destructive: expected true or false, got 'maybe'"),
        ("a negative restart allowance", """
            version: 1
            phases:
              monitor:
                - { id: a, title: A, seed: "4.2", check: { type: containers, max_new_restarts: -1 } }
            """, "runbook.yaml:4:84: step 'a'.check.max_new_restarts: expected a count of 0 or more, got -1"),
        ("a reconciliation tolerance that is no number", """
            version: 1
            phases:
              monitor:
                - { id: a, title: A, seed: "4.1", check: { type: reconcile, tolerance: { cash: lots } } }
            """, "runbook.yaml:4:84: step 'a'.check.tolerance.cash: expected a number, got 'lots'"),
        ("a negative reconciliation tolerance", """
            version: 1
            phases:
              monitor:
                - { id: a, title: A, seed: "4.1", check: { type: reconcile, tolerance: { quantity: -1e-8 } } }
            """, "runbook.yaml:4:88: step 'a'.check.tolerance.quantity: expected a tolerance of 0 or more, got -1e-8"),
        ("a reconciliation tolerance of something the books do not hold", """
            version: 1
            phases:
              monitor:
                - { id: a, title: A, seed: "4.1", check: { type: reconcile, tolerance: { equity: 1 } } }
            """, "runbook.yaml:4:78: step 'a'.check.tolerance: unknown key 'equity'"),
        ("a stream the writer does not store", """
            version: 1
            phases:
              monitor:
                - { id: a, title: A, seed: "4.1", check: { type: persistence, streams: [signals, market_data] } }
            """, "runbook.yaml:4:76: step 'a'.check.streams: 'market_data' is not a persisted stream (one of signals, orders, trades, portfolio_snapshots, risk_events)"),
        ("wrong version", """
            version: 2
            phases: {}
            """, "runbook.yaml:1:10: runbook.version: this cdbctl reads version 1, got 2"),
        ("YAML syntax error", """
            version: 1
            phases:
              go: [
            """, "runbook.yaml:4:1: did not find expected node content (while parsing a flow node started at 4:1)"),
    ]

    @Test("each broken runbook yields its located message", arguments: corpus.indices)
    func brokenRunbook(index: Int) {
        let case_ = Self.corpus[index]
        let messages = validationMessages(case_.text)
        #expect(messages.contains(case_.expected), "\(case_.name): got \(messages)")
    }

    @Test("all problems of a file are reported together, in file order")
    func everyProblemAtOnce() {
        let messages = validationMessages("""
            version: 1
            phases:
              go:
                - { id: a, title: A, seed: "2.5", check: { type: htpp } }
                - { id: b, title: B, seed: "2.5", retries: -1, check: { type: wait, duration: soon } }
            """)
        #expect(messages.count == 3)
        #expect(messages.map { $0.split(separator: ":")[1] } == ["4", "5", "5"])
    }
}
