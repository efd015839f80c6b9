import Foundation
import HTTPClient
import StackContract
import TradingCore
import YAMLParser

/// `type: settings_applied`: the limits cdb_risk enforces (its `/status`) are the ones the settings give now.
///
/// cdb_risk reads its limits when it starts: a limit changed in `.env` applies only after cdb_risk was started
/// again with it, and until then the env step's "valid" would let the operator believe otherwise.
public struct SettingsAppliedCheck: CheckType {
    public static let typeName = "settings_applied"
    public static let keys: [String] = []

    public static func decode(from reader: CheckReader) -> SettingsAppliedCheck? {
        SettingsAppliedCheck()
    }

    public func execute(in context: CheckContext) async throws -> CheckOutcome {
        await context.settingsApplied()
    }
}

extension CheckContext {
    fileprivate func settingsApplied() async -> CheckOutcome {
        let reader = EnvironmentReader(environment)
        let configured = RiskLimits(reading: reader)
        do {
            try reader.finish()
        } catch {
            return .fail("cannot compare the limits: the settings are invalid (\(error.problems.joined(separator: "; ")))")
        }
        guard let base = baseURL(of: "cdb_risk") else { return .fail("cdb_risk has no published address in the settings") }
        let running: RiskLimits
        do {
            running = try await RiskStatusSource.fetch(baseURL: base).limits
        } catch {
            return .fail("\(error): cannot see the limits cdb_risk enforces")
        }
        // Both sides as policies of the same sizing and fills, so only the limits can differ.
        let differences = RiskPolicy(limits: configured).changes(since: RiskPolicy(limits: running))
        guard differences.isEmpty else {
            return .fail("cdb_risk enforces other limits than the settings (enforced → configured): \(differences.joined(separator: ", ")); "
                + "start cdb_risk again to apply them (bash scripts/stack.sh up -d cdb_risk)")
        }
        return .pass("cdb_risk enforces the configured limits (position \(configured.maxPositionPct), exposure \(configured.maxTotalExposurePct), "
            + "daily drawdown \(configured.maxDailyDrawdownPct), circuit breaker \(configured.circuitBreakerThresholdPct))")
    }
}
