import Foundation

/// Where the Docker Engine API listens, read from `DOCKER_HOST` the way the docker CLI reads it.
public struct DockerHostAddress: Sendable, Equatable {
    /// The unix socket to talk over, or nil for TCP.
    public var unixSocketPath: String?
    /// What request URLs start with (`http://localhost` over a socket).
    public var baseURL: String

    /// The CLI's default when `DOCKER_HOST` is unset.
    public static let standard = DockerHostAddress(unixSocketPath: "/var/run/docker.sock", baseURL: "http://localhost")

    public init(unixSocketPath: String?, baseURL: String) {
        self.unixSocketPath = unixSocketPath
        self.baseURL = baseURL
    }

    /// Parses `unix:///path` or `tcp://host:port`; `nil` or empty means the standard socket.
    public init(dockerHost: String?) throws(DockerHostError) {
        guard let value = dockerHost?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            self = .standard
            return
        }
        if value.hasPrefix("unix://") {
            let path = String(value.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { throw DockerHostError(value: value, reason: "a unix socket path must be absolute") }
            self.init(unixSocketPath: path, baseURL: "http://localhost")
        } else if value.hasPrefix("tcp://") {
            let authority = String(value.dropFirst("tcp://".count)).split(separator: "/").first.map(String.init) ?? ""
            guard !authority.isEmpty else { throw DockerHostError(value: value, reason: "no host after tcp://") }
            if let colon = authority.lastIndex(of: ":") {
                let port = authority[authority.index(after: colon)...]
                guard let number = Int(port), (1...65535).contains(number) else {
                    throw DockerHostError(value: value, reason: "port '\(port)' is not an integer in 1-65535")
                }
            }
            self.init(unixSocketPath: nil, baseURL: "http://" + authority)
        } else {
            throw DockerHostError(value: value, reason: "only unix:// and tcp:// are supported (ssh:// and npipe:// are not)")
        }
    }
}

/// A `DOCKER_HOST` value this tool cannot use.
public struct DockerHostError: Error, CustomStringConvertible, Equatable {
    public var value: String
    public var reason: String
    public var description: String { "DOCKER_HOST: '\(value)': \(reason)" }
}
