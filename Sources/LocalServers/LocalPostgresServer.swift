@_exported import ChildProcesses
import Foundation
import PostgresClient
import Synchronization

/// A throwaway PostgreSQL cluster (`initdb` in a temporary directory) on a free loopback port.
///
/// It requires a password over TCP (scram-sha-256), as the real stack does. PostgreSQL refuses to run
/// as root, so when this process is root the cluster belongs to the `postgres` system user.
public final class LocalPostgresServer: Sendable {
    public let port: Int
    public let user = "claire_user"
    public let password = "local-test-password"
    public let directory: URL
    private let binaries: URL
    private let process = Mutex<ChildProcess?>(nil)

    public init() async throws {
        guard let initdb = Self.findBinary("initdb") else {
            throw LocalServerError(message: "PostgreSQL server binaries not found (apt-get install postgresql)")
        }
        binaries = URL(fileURLWithPath: initdb).deletingLastPathComponent()
        port = try freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdb-postgres-\(UUID().uuidString)")
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // SIGINT: PostgreSQL's fast shutdown, which does not wait for this process's own open connections.
        ExitCleanup.register(directory) { [weak self] in self?.takeProcess()?.stopAtExit(with: SIGINT) }
        let passwordFile = directory.appendingPathComponent("pwfile")
        try password.write(to: passwordFile, atomically: true, encoding: .utf8)
        try await handOverToServerUser(directory)
        try await run(initdb, ["-D", data.path, "-U", user, "--pwfile", passwordFile.path, "--auth-host=scram-sha-256",
                         "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        try await start()
        try await createDatabase("claire_de_binare")
    }

    deinit {
        let directory = self.directory
        guard let child = takeProcess() else { try? FileManager.default.removeItem(at: directory); return }
        child.send(SIGINT)
        child.reapInBackground { try? FileManager.default.removeItem(at: directory) }
    }

    /// A client configuration for `database` on this server. Its connect timeout is generous: the test servers share
    /// two cores with whole suites starting at once and, in the preflight, a running stack, and a connect that waits
    /// its turn is no failure of the code under test.
    public func configuration(database: String = "claire_de_binare") -> PostgresConfiguration {
        PostgresConfiguration(host: "127.0.0.1", port: port, user: user, password: password, database: database,
                              connectTimeoutSeconds: Self.connectTimeoutSeconds)
    }

    public static let connectTimeoutSeconds = 30

    /// Creates a database of its own for one test, so tests sharing the server never share data.
    @discardableResult
    public func createDatabase(_ name: String? = nil) async throws -> PostgresConfiguration {
        let name = name ?? "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let admin = try await PostgresConnection(configuration(database: "postgres"))
        try await admin.execute("CREATE DATABASE \"\(name)\"")
        return configuration(database: name)
    }

    /// (Re)starts the server on the same port and data directory.
    public func start() async throws {
        let server = binaries.appendingPathComponent("postgres").path
        let arguments = ["-D", directory.appendingPathComponent("data").path, "-p", "\(port)", "-k", directory.path,
                         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                         "-c", "full_page_writes=off", "-c", "max_connections=200"]
        let (executable, fullArguments) = privilegeDrop(server, arguments)
        let log = directory.appendingPathComponent("server.log")
        let child = try ChildProcess(executable, fullArguments, outputPath: log.path)
        process.withLock { $0 = child }
        let configuration = self.configuration(database: "postgres")
        do {
            try await waitUntil(timeout: .seconds(30), what: "PostgreSQL on port \(port)", process: child, log: log.path) {
                (try? await PostgresConnection(configuration)) != nil
            }
        } catch {
            await stop()
            throw error
        }
    }

    /// Stops the server with a fast shutdown (SIGINT) and waits for it to exit (on a thread of its own).
    public func stop() async {
        guard let child = takeProcess() else { return }
        // SIGINT is PostgreSQL's "fast" shutdown; setpriv exec'd the server, so the pid is the server itself.
        child.send(SIGINT)
        await child.exitStatus()
    }

    private func takeProcess() -> ChildProcess? {
        process.withLock { current in defer { current = nil }; return current }
    }

    private static func findBinary(_ name: String) -> String? {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let newestFirst = versions.compactMap(Int.init).sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
        return newestFirst.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? locateExecutable(name)
    }

    private var runsAsRoot: Bool { geteuid() == 0 }

    private func privilegeDrop(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        guard runsAsRoot else { return (executable, arguments) }
        return ("/usr/bin/setpriv",
                ["--reuid", "postgres", "--regid", "postgres", "--init-groups", "--", executable] + arguments)
    }

    private func run(_ executable: String, _ arguments: [String]) async throws {
        let (program, fullArguments) = privilegeDrop(executable, arguments)
        try await runToCompletion(program, fullArguments)
    }

    private func handOverToServerUser(_ directory: URL) async throws {
        guard runsAsRoot else { return }
        try await runToCompletion("/bin/chown", ["-R", "postgres:postgres", directory.path])
    }
}
