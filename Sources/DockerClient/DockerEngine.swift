import Foundation
import HTTPClient

/// The facts cdbctl needs about one container, from the Docker Engine API.
public struct ContainerState: Sendable, Equatable {
    public var id: String
    public var name: String
    /// The compose service (`com.docker.compose.service` label).
    public var service: String
    /// `running`, `exited`, `paused`, `restarting`, …
    public var state: String
    /// `healthy`, `unhealthy`, `starting`, or nil without a healthcheck.
    public var health: String?
    public var restartCount: Int
    public var exitCode: Int
    public var startedAt: String
}

/// A thin client of the Docker Engine API over its unix socket (or tcp://), honouring `DOCKER_HOST`.
///
/// Containers are selected by the compose labels, so v1 and v2 container names both work.
public struct DockerEngine: Sendable {
    public var address: DockerHostAddress
    public var project: String
    public var timeout: Duration

    public init(environment: [String: String], project: String, timeout: Duration = .seconds(5)) throws(DockerHostError) {
        address = try DockerHostAddress(dockerHost: environment["DOCKER_HOST"])
        self.project = project
        self.timeout = timeout
    }

    /// Where the engine is, for messages.
    public var location: String { address.unixSocketPath.map { "unix://\($0)" } ?? address.baseURL }

    /// Every container of the compose project, running or not.
    public func containers() async throws -> [ContainerState] {
        let filter = #"{"label":["com.docker.compose.project=\#(project)"]}"#
        let list = try await getJSON("/containers/json?all=1&filters=" + (filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        guard case .array(let items) = list else { throw DockerEngineError(message: "\(location): unexpected answer to /containers/json") }
        var states: [ContainerState] = []
        for item in items {
            guard case .string(let id)? = item.value(at: ["Id"]) else { continue }
            let detail = try await getJSON("/containers/\(id)/json")
            states.append(ContainerState(
                id: id,
                name: detail.string(["Name"]).map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 } ?? id,
                service: detail.string(["Config", "Labels", "com.docker.compose.service"]) ?? "",
                state: detail.string(["State", "Status"]) ?? "unknown",
                health: detail.string(["State", "Health", "Status"]),
                restartCount: Int(detail.number(["RestartCount"]) ?? 0),
                exitCode: Int(detail.number(["State", "ExitCode"]) ?? 0),
                startedAt: detail.string(["State", "StartedAt"]) ?? ""))
        }
        return states.sorted { $0.service < $1.service }
    }

    /// Memory in use (without page cache, as `docker stats` shows it) and the limit, in bytes.
    public func memory(of container: ContainerState) async throws -> (used: Double, limit: Double) {
        let stats = try await getJSON("/containers/\(container.id)/stats?stream=false&one-shot=true")
        let usage = stats.number(["memory_stats", "usage"]) ?? 0
        let cache = stats.number(["memory_stats", "stats", "inactive_file"]) ?? stats.number(["memory_stats", "stats", "total_inactive_file"]) ?? 0
        return (usage - cache, stats.number(["memory_stats", "limit"]) ?? 0)
    }

    /// The container's log lines since `since` (or its last `tail` lines), stdout and stderr together.
    public func logs(of container: ContainerState, since: Date? = nil, tail: Int? = nil) async throws -> [String] {
        var query = "stdout=1&stderr=1&timestamps=1"
        if let since { query += "&since=\(Int(since.timeIntervalSince1970))" }
        if let tail { query += "&tail=\(tail)" }
        let response = try await get("/containers/\(container.id)/logs?" + query)
        guard response.status == 200 else { throw DockerEngineError(message: "\(location): logs of \(container.name) answered \(response.status)") }
        return Self.demultiplex(response.body).split(separator: "\n").map(String.init)
    }

    /// `/info`: total memory the engine can give containers, and where it keeps its data.
    public func info() async throws -> (memoryTotal: Double, rootDirectory: String) {
        let info = try await getJSON("/info")
        return (info.number(["MemTotal"]) ?? 0, info.string(["DockerRootDir"]) ?? "/var/lib/docker")
    }

    /// What an operator (or a playbook) does to one container.
    public enum Action: String, Sendable, CaseIterable {
        case stop, start, restart, pause, unpause
    }

    /// Performs `action`; true when it changed something, false when the container already was that way.
    @discardableResult
    public func perform(_ action: Action, on container: ContainerState, graceSeconds: Int = 10) async throws -> Bool {
        let query = action == .stop || action == .restart ? "?t=\(graceSeconds)" : ""
        let request = HTTPRequest(method: "POST", url: address.baseURL + "/containers/\(container.id)/\(action.rawValue)\(query)",
                                  timeout: timeout + .seconds(graceSeconds), unixSocketPath: address.unixSocketPath)
        let response: HTTPResponse
        do {
            response = try await HTTPClient().send(request)
        } catch {
            throw DockerEngineError(message: "Docker engine not reachable at \(location): \(error.message)")
        }
        switch response.status {
        case 204: return true
        case 304: return false  // already stopped / already started
        case 409 where action == .pause || action == .unpause: return false  // already paused / not paused
        default:
            throw DockerEngineError(message: "\(action.rawValue) \(container.name) answered \(response.status): \(response.text.prefix(200))")
        }
    }

    /// Seed §5.4's last resort: stops and removes the container, then its named volumes; returns their names.
    /// Destroys data: only destructive steps (behind `--yes` and a fresh backup) call it.
    public func removeWithVolumes(_ container: ContainerState) async throws -> [String] {
        let detail = try await getJSON("/containers/\(container.id)/json")
        var volumes: [String] = []
        if case .array(let mounts)? = detail.value(at: ["Mounts"]) {
            for mount in mounts where mount.string(["Type"]) == "volume" {
                if let name = mount.string(["Name"]) { volumes.append(name) }
            }
        }
        try await perform(.stop, on: container)
        try await delete("/containers/\(container.id)", what: "remove \(container.name)")
        for volume in volumes { try await delete("/volumes/\(volume)", what: "remove volume \(volume)") }
        return volumes
    }

    /// DELETE; a 404 (already gone) counts as done, so a re-run after a partial failure goes on.
    private func delete(_ path: String, what: String) async throws {
        let request = HTTPRequest(method: "DELETE", url: address.baseURL + path, timeout: timeout + .seconds(10), unixSocketPath: address.unixSocketPath)
        let response: HTTPResponse
        do {
            response = try await HTTPClient().send(request)
        } catch {
            throw DockerEngineError(message: "Docker engine not reachable at \(location): \(error.message)")
        }
        guard [204, 404].contains(response.status) else {
            throw DockerEngineError(message: "\(what) answered \(response.status): \(response.text.prefix(200))")
        }
    }

    /// Non-TTY container logs come in frames with an 8-byte header (stream, 0, 0, 0, big-endian length).
    static func demultiplex(_ body: [UInt8]) -> String {
        var text: [UInt8] = []
        var offset = 0
        guard body.count >= 8, [0, 1, 2].contains(body[0]), body[1] == 0, body[2] == 0, body[3] == 0 else {
            return String(decoding: body, as: UTF8.self)
        }
        while offset + 8 <= body.count {
            let length = body[(offset + 4)..<(offset + 8)].reduce(0) { $0 << 8 | Int($1) }
            let end = min(body.count, offset + 8 + length)
            text += body[(offset + 8)..<end]
            offset = end
        }
        return String(decoding: text, as: UTF8.self)
    }

    func get(_ path: String) async throws -> HTTPResponse {
        do {
            return try await HTTPClient().get(address.baseURL + path, timeout: timeout, unixSocketPath: address.unixSocketPath)
        } catch {
            throw DockerEngineError(message: "Docker engine not reachable at \(location): \(error.message) — is dockerd running, and may this user use its socket?")
        }
    }

    private func getJSON(_ path: String) async throws -> JSONValue {
        let response = try await get(path)
        guard response.status == 200, let value = JSONValue(json: response.body) else {
            throw DockerEngineError(message: "\(location)\(path.prefix { $0 != "?" }) answered \(response.status): \(response.text.prefix(200))")
        }
        return value
    }
}

/// A Docker Engine API call that failed: where the engine is, what was asked, and what it answered.
public struct DockerEngineError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
