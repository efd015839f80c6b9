/// The incident playbooks of seed §5, by the names `cdbctl incident <kind>` takes.
public enum IncidentKind: String, Sendable, Codable, CaseIterable {
    case containerCrash = "container-crash"
    case riskLimit = "risk-limit"
    case serviceUnresponsive = "service-unresponsive"
    case databaseOutage = "database-outage"
    case resourceShortage = "resource-shortage"
    case dataStop = "data-stop"
    /// Seed §5.4 "Wenn Daten korrupt" / "Letzter Ausweg": the newest backup restored (destructive, `--yes`).
    case databaseRestore = "database-restore"

    public static var allNames: [String] { allCases.map(\.rawValue) }
}
