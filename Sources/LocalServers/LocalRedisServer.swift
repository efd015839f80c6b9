@_exported import ChildProcesses
import Foundation
import RedisClient
import Synchronization

/// A throwaway `redis-server` on a free loopback port, its data in a temporary directory.
public final class LocalRedisServer: Sendable {
    public let port: Int
    public let password: String?
    /// With the append-only file (`appendfsync everysec`), as the stack runs Redis: a restart keeps the data.
    public let appendOnly: Bool
    public let directory: URL
    private let process = Mutex<ChildProcess?>(nil)

    /// Starts a server (optionally requiring `password`, optionally persisting to an AOF) and waits until it answers PING.
    public init(password: String? = nil, appendOnly: Bool = false) async throws {
        guard locateExecutable("redis-server") != nil else {
            throw LocalServerError(message: "redis-server is not installed (apt-get install redis-server)")
        }
        self.port = try freeLoopbackPort()
        self.password = password
        self.appendOnly = appendOnly
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdb-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        ExitCleanup.register(directory) { [weak self] in self?.takeProcess()?.stopAtExit(with: SIGTERM) }
        try await start()
    }

    deinit {
        let directory = self.directory
        guard let child = takeProcess() else { try? FileManager.default.removeItem(at: directory); return }
        child.send(SIGTERM)
        child.reapInBackground { try? FileManager.default.removeItem(at: directory) }
    }

    /// A client configuration pointing at this server.
    public var configuration: RedisConfiguration {
        RedisConfiguration(host: "127.0.0.1", port: port, password: password)
    }

    /// (Re)starts the server on the same port and directory.
    public func start() async throws {
        var arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory.path, "--save", "",
                         "--appendonly", appendOnly ? "yes" : "no", "--appendfsync", "everysec", "--daemonize", "no", "--loglevel", "warning"]
        if let password { arguments += ["--requirepass", password] }
        let log = directory.appendingPathComponent("server.log").path
        let child = try ChildProcess(locateExecutable("redis-server") ?? "/usr/bin/redis-server", arguments, outputPath: log)
        process.withLock { $0 = child }
        let configuration = self.configuration
        do {
            try await waitUntil(timeout: .seconds(10), what: "redis-server on port \(port)", process: child, log: log) {
                guard let connection = try? await RedisConnection(configuration) else { return false }
                return (try? await connection.command("PING")) == .status("PONG")
            }
        } catch {
            await stop()
            throw error
        }
    }

    /// Stops the server (SIGTERM) and waits for it to exit (on a thread of its own).
    public func stop() async {
        guard let child = takeProcess() else { return }
        child.send(SIGTERM)
        await child.exitStatus()
    }

    private func takeProcess() -> ChildProcess? {
        process.withLock { current in defer { current = nil }; return current }
    }
}
