#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import Logging
import Primitives
import ServiceLifecycle
import StackContract
import UnixSignals

/// Runs one service: its endpoints on `port` and its workers, until SIGTERM or SIGINT.
///
/// On a signal the HTTP server stops accepting, each worker finishes what it holds (a stream consumer
/// acknowledges its batch) and the process exits 0; whatever has not finished after `shutdownGrace`
/// is cancelled, so `docker stop` (10 s) never has to kill.
public struct ServiceRunner: Sendable {
    public var endpoints: ServiceEndpoints
    public var host: String
    public var port: Int
    public var workers: [any Service]
    public var logger: Logger
    public var shutdownGrace: Duration
    /// Extra routes (`POST /circuit-breaker/reset` …) added next to the standard ones.
    public var extraRoutes: @Sendable (Router<BasicRequestContext>) -> Void

    public init(
        endpoints: ServiceEndpoints, host: String = "0.0.0.0", port: Int, workers: [any Service], logger: Logger,
        shutdownGrace: Duration = .seconds(8), extraRoutes: @escaping @Sendable (Router<BasicRequestContext>) -> Void = { _ in }
    ) {
        self.endpoints = endpoints
        self.host = host
        self.port = port
        self.workers = workers
        self.logger = logger
        self.shutdownGrace = shutdownGrace
        self.extraRoutes = extraRoutes
    }

    /// The HTTP application serving the endpoints; `onRunning` learns the bound port (tests bind port 0).
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        endpoints.register(on: router)
        extraRoutes(router)
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)  // no per-request lines in the service log
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: endpoints.service),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: quiet)
    }

    /// Runs until a signal (or a worker failing), then shuts down gracefully.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: application(onRunning: onRunning))]
        services += workers.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup) }
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownGrace
        logger.info("starting", metadata: ["port": "\(port)", "version": "\(endpoints.version)"])
        try await ServiceGroup(configuration: configuration).run()
        logger.info("stopped")
    }
}

/// Process-wide set-up every service executable does first.
public enum ServiceBootstrap {
    /// Installs the log format with secret redaction; `LOG_LEVEL` picks the level (default info).
    public static func logging(service: String, secrets: [String], level: String?) -> Logger {
        let parsed = level.flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        LoggingSystem.bootstrap { label in ServiceLogHandler(label: label, level: parsed, secrets: secrets) }
        return Logger(label: service)
    }

    /// Prints a configuration error the way every tool here does and exits 2.
    public static func exit(with error: ConfigurationError, service: String) -> Never {
        StandardError.write("\(service): \(error)\n")
        Glibc.exit(ConfigurationError.exitCode)
    }
}
