/// The Redis keys under which the stages keep the state they resume from (committed with their events).
///
/// One list for the services that write them and for cdbctl, which deletes cdb_risk's to reset the account.
public enum SavedStateKeys {
    public static let signalStage = "cdb_core:state"
    public static let riskStage = "cdb_risk:state"
    public static let executionStage = "cdb_execution:state"

    /// The key of `service`'s state; nil for a service that keeps none.
    public static func key(of service: String) -> String? {
        ["cdb_core": signalStage, "cdb_risk": riskStage, "cdb_execution": executionStage][service]
    }
}
