// ServiceHost's API speaks the contract's vocabulary (BusStream, DependencyState, EnvironmentReader): whoever
// builds a service on it uses those types, so importing ServiceHost brings them along.
@_exported import StackContract
