import ChildProcesses
import Foundation
import Runbook
import Testing
import TradingCore

@Suite("The settings_applied check against a loopback cdb_risk")
struct SettingsAppliedCheckTests {
    static let step = """
          - { id: limits, title: Limits applied, seed: "2.5", check: { type: settings_applied } }
    """

    @Test("limits as configured pass; a limit changed in the settings but not yet in cdb_risk fails naming both values")
    func comparesWithStatus() async throws {
        let board = RiskStatusBoard(TradedAccount().status)
        let (same, changed) = try await withRiskStatus(board) { port in
            let same = try await EngineFixture(environment: ["CDB_RISK_PORT": "\(port)"]).run(Self.step)["limits"]
            let changed = try await EngineFixture(environment: ["CDB_RISK_PORT": "\(port)", "MAX_POSITION_PCT": "0.05"]).run(Self.step)["limits"]
            return (try #require(same), try #require(changed))
        }
        #expect(same.status == .pass, "\(same.detail)")
        #expect(same.detail.hasPrefix("cdb_risk enforces the configured limits (position 0.1, exposure 0.3"), "\(same.detail)")
        #expect(changed.status == .fail)
        #expect(changed.detail.contains("(enforced → configured): MAX_POSITION_PCT 0.1 → 0.05; start cdb_risk again"), "\(changed.detail)")
    }

    @Test("cdb_risk not answering fails: what it enforces is unknown")
    func statusDown() async throws {
        let port = try freeLoopbackPort()
        let result = try #require(try await EngineFixture(environment: ["CDB_RISK_PORT": "\(port)"]).run(Self.step)["limits"])
        #expect(result.status == .fail)
        #expect(result.detail.contains("127.0.0.1:\(port)/status"), "\(result.detail)")
        #expect(result.detail.hasSuffix("cannot see the limits cdb_risk enforces"), "\(result.detail)")
    }
}
