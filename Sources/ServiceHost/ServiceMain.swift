#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import EventBus
import Hummingbird
import Logging
import ServiceLifecycle
import StackContract

/// What a service hands the host to run: its workers, health checks, status and any extra routes.
public struct ServiceParts: Sendable {
    public var workers: [any Service]
    public var checks: [HealthCheck]
    public var status: StatusProvider
    public var routes: @Sendable (Router<BasicRequestContext>) -> Void

    public init(
        workers: [any Service], checks: [HealthCheck], status: @escaping StatusProvider,
        routes: @escaping @Sendable (Router<BasicRequestContext>) -> Void = { _ in }
    ) {
        self.workers = workers
        self.checks = checks
        self.status = status
        self.routes = routes
    }
}

/// The shared pieces a service is built from.
public struct ServiceContext: Sendable {
    public let settings: CommonSettings
    public let logger: Logger
    public let metrics: ServiceMetrics
    public let publisher: EventPublisher

    /// A consumer of `stream` in this service's group (named after the service), at least once, timing its hop.
    public func consumer(_ stream: BusStream, batchSize: Int = 256, handler: @escaping StreamConsumer.Handler) -> StreamConsumer {
        StreamConsumer(
            redis: settings.redis,
            settings: .init(stream: stream.rawValue, group: settings.service, consumer: settings.consumerName, batchSize: batchSize),
            logger: logger, hopLatency: metrics.hopLatency(from: stream.rawValue), handler: handler)
    }
}

/// The one `main` every service shares: read and validate the environment (exit 2 listing every
/// problem), set up logging and metrics, build the service, serve until SIGTERM, exit 0.
public enum ServiceMain {
    /// Main-actor isolated like the top-level code that calls it, so the closures a `main.swift` passes
    /// (main-actor closures there) run where they were written rather than tripping an isolation check.
    @MainActor
    public static func run<Config>(
        service: String, defaultPort: Int,
        readConfig: (EnvironmentReader) -> Config,
        build: (Config, ServiceContext) async throws -> ServiceParts
    ) async -> Never {
        let reader = EnvironmentReader()
        let settings = CommonSettings(reader: reader, service: service, defaultPort: defaultPort)
        let config = readConfig(reader)
        do {
            try reader.finish()
        } catch {
            ServiceBootstrap.exit(with: error, service: service)
        }
        MemoryRelease.limitArenas(to: settings.mallocArenas)
        let logger = ServiceBootstrap.logging(service: service, secrets: reader.secrets, level: settings.logLevel)
        let context = ServiceContext(
            settings: settings, logger: logger, metrics: ServiceMetrics(service: service),
            publisher: EventPublisher(redis: settings.redis, maxLength: settings.streamMaxLength))
        do {
            let parts = try await build(config, context)
            let endpoints = ServiceEndpoints(
                service: service, version: CDBVersion.current, checks: parts.checks, metrics: context.metrics, status: parts.status)
            try await ServiceRunner(endpoints: endpoints, port: settings.httpPort, workers: parts.workers + [MemoryRelease.worker(logger: logger)], logger: logger, extraRoutes: parts.routes).run()
            exit(0)
        } catch {
            logger.critical("service stopped on an error", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}

/// A worker that runs `body` every `interval` until shutdown (periodic snapshots, housekeeping), then
/// `atShutdown` once. A service group stops its services in reverse order, so a task listed before the
/// stream consumers runs `atShutdown` after their last batches.
public struct PeriodicTask: Service {
    private let interval: Duration
    private let logger: Logger
    private let body: @Sendable () async throws -> Void
    private let atShutdown: (@Sendable () async throws -> Void)?

    public init(
        every interval: Duration, logger: Logger, atShutdown: (@Sendable () async throws -> Void)? = nil,
        _ body: @escaping @Sendable () async throws -> Void
    ) {
        self.interval = interval
        self.logger = logger
        self.body = body
        self.atShutdown = atShutdown
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            do { try await body() } catch { logger.error("periodic task failed", metadata: ["error": "\(error)"]) }
        }
        do { try await atShutdown?() } catch { logger.error("shutdown task failed", metadata: ["error": "\(error)"]) }
    }
}
