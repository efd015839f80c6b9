// swift-tools-version:6.1
// Claire de Binare: the cdbctl runbook tool and the trading services, one package.
import PackageDescription

/// Our own targets build in Swift 6 language mode with strict concurrency (the default for tools 6).
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The five services export no symbols: the toolchain's static-stdlib link exports every symbol of the program
/// (`-export-dynamic`, for swift-corelibs-foundation's dlsym lookups), which the services do not link; the
/// symbol tables stayed resident in every service (1.8 MB of cdb_db_writer's idle memory).
let serviceLinking: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "--no-export-dynamic"])]

let package = Package(
    name: "claire-de-binare",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cdbctl", targets: ["cdbctl"]),
        .executable(name: "cdb-bench", targets: ["cdb-bench"]),
        .executable(name: "cdb_ws", targets: ["cdb_ws"]),
        .executable(name: "cdb_core", targets: ["cdb_core"]),
        .executable(name: "cdb_risk", targets: ["cdb_risk"]),
        .executable(name: "cdb_execution", targets: ["cdb_execution"]),
        .executable(name: "cdb_db_writer", targets: ["cdb_db_writer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Traits off: we use neither swift-configuration nor the full-Foundation extras, and both cost build time.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        // The MEXC WebSocket client (WSClient; it brings BoringSSL for wss://) and, for tests, a WebSocket server.
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        // Runtime only: the MEXC protobuf code is generated once and committed (scripts/generate-mexc-proto.sh).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // Report templates in templates/ (Markdown, logic-less).
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // C system libraries: one shim each, wrapped by exactly one Swift adapter module.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // hiredis' pkg-config adds -D_FILE_OFFSET_BITS=64, which SwiftPM warns about; the modulemap links it directly.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),

        // glibc's GNU extensions (malloc_trim, pthread_setname_np); part of libc, nothing to install.
        .systemLibrary(name: "CGNUExtensions"),

        /// The primitives everything shares, each written once: the dedicated-thread executor and OSThread, a bounded
        /// channel, the retry backoff, a deadline that cancels, Duration conversions, the Redis stream id. No Foundation.
        .target(name: "Primitives", dependencies: ["CGNUExtensions"], swiftSettings: strict),
        /// Trimming and fixed-decimal formatting without Foundation: the service modules import FoundationEssentials
        /// only, so no service binary links ICU or swift-corelibs-foundation.
        .target(name: "PlainText", swiftSettings: strict),
        .target(name: "PostgresClient", dependencies: ["CLibPQ", "Primitives", "PlainText"], swiftSettings: strict),
        .target(name: "RedisClient", dependencies: ["CHiredis", "Primitives", "PlainText"], swiftSettings: strict),
        .target(name: "HTTPClient", dependencies: ["CCurl", "Primitives"], swiftSettings: strict),
        /// The Docker Engine API where `DOCKER_HOST` says: the compose project's containers, their logs, stats and actions.
        .target(name: "DockerClient", dependencies: ["HTTPClient"], swiftSettings: strict),
        .target(name: "YAMLParser", dependencies: ["CYAML"], swiftSettings: strict),

        /// Pure trading logic: events, strategy, sizing, risk rules, paper fills, accounting, metrics. No I/O.
        .target(name: "TradingCore", dependencies: ["PlainText"], swiftSettings: strict),
        /// What the services and cdbctl agree on: the bus streams (and which are persisted), the entry field, the
        /// /health and /status documents, the settings and their reader. FoundationEssentials only, no I/O.
        .target(name: "StackContract", dependencies: ["TradingCore", "PlainText"], swiftSettings: strict),
        /// The bus's wire form: the event envelope (JSON in the entry field) and publishing (XADD + PUBLISH mirror);
        /// the services and cdbctl's probe share it.
        .target(name: "EventBus", dependencies: ["RedisClient", "StackContract", "TradingCore"], swiftSettings: strict),

        .target(
            name: "ServiceHost",
            dependencies: [
                "RedisClient", "CGNUExtensions", "PlainText", "Primitives", "StackContract", "EventBus",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        /// Market ticks: the built-in synthetic walk, file replay, and the live MEXC spot WebSocket (protobuf pushes).
        .target(
            name: "MarketFeed",
            dependencies: [
                "TradingCore", "PlainText", "Primitives",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The .proto is the source of Generated/mexc_push.pb.swift, not a build input.
            exclude: ["Proto"],
            swiftSettings: strict
        ),
        /// The database side: versioned migrations, the runbook's schema and queries, idempotent batch persistence.
        .target(name: "TradeStore", dependencies: ["PostgresClient", "TradingCore", "PlainText", "StackContract"], swiftSettings: strict),
        /// The trading stages wired to the bus (cdb_core, cdb_risk, cdb_execution) and the event envelope they share.
        /// Each executable is a thin main over one stage. The feed and the writer have targets of their own, so
        /// only cdb_ws links the WebSocket/TLS/protobuf stack and only cdb_db_writer links libpq: a service's
        /// idle memory grows with every library it loads.
        .target(
            name: "TradingServices",
            dependencies: ["TradingCore", "ServiceHost", "RedisClient", "PlainText", "Primitives", "StackContract", "EventBus",
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: strict
        ),
        /// cdb_ws's stage: ticks from a feed onto `market_data`.
        .target(
            name: "MarketDataService",
            dependencies: ["TradingCore", "MarketFeed", "ServiceHost", "PlainText", "Primitives", "StackContract", "EventBus", "RedisClient",
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: strict
        ),
        /// cdb_db_writer's stage: the persisted streams into PostgreSQL.
        .target(
            name: "PersistenceService",
            dependencies: ["TradingCore", "TradeStore", "PostgresClient", "ServiceHost", "RedisClient", "Primitives", "StackContract",
                           .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: strict
        ),
        /// Throwaway redis-server and PostgreSQL instances on free ports, for tests and the benchmark.
        /// Child processes started with posix_spawn and reaped deterministically (servers in tests, pg_dump, compose).
        .target(name: "ChildProcesses", dependencies: ["Primitives"], swiftSettings: strict),
        .target(name: "LocalServers", dependencies: ["ChildProcesses", "PostgresClient", "RedisClient"], swiftSettings: strict),

        /// The executable runbook: settings, checks, decisions, reports. `cdbctl` is a thin front over it.
        .target(name: "Runbook", dependencies: ["StackContract", "EventBus", "Primitives", "RedisClient", "PostgresClient", "HTTPClient", "DockerClient", "YAMLParser", "ChildProcesses", "TradingCore", "TradeStore"],
                swiftSettings: strict),
        /// The written reviews: seed §6's daily, morning and evening reports and §8's post-run analysis, from templates/ with SVG charts.
        .target(name: "RunReports", dependencies: ["Runbook", "DockerClient", "PostgresClient", "TradeStore", "LocalServers", .product(name: "Mustache", package: "swift-mustache")],
                swiftSettings: strict),

        .executableTarget(
            name: "cdbctl",
            dependencies: ["Runbook", "RunReports", "LocalServers", "StackContract", "Primitives", "YAMLParser", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        .executableTarget(name: "cdb_ws", dependencies: ["ServiceHost", "MarketDataService", "MarketFeed"], swiftSettings: strict, linkerSettings: serviceLinking),
        .executableTarget(name: "cdb_core", dependencies: ["ServiceHost", "TradingServices", "TradingCore"], swiftSettings: strict, linkerSettings: serviceLinking),
        .executableTarget(name: "cdb_risk", dependencies: ["ServiceHost", "TradingServices", "TradingCore"], swiftSettings: strict, linkerSettings: serviceLinking),
        .executableTarget(name: "cdb_execution", dependencies: ["ServiceHost", "TradingServices"], swiftSettings: strict, linkerSettings: serviceLinking),
        .executableTarget(name: "cdb_db_writer", dependencies: ["ServiceHost", "PersistenceService", "TradeStore", "StackContract"], swiftSettings: strict, linkerSettings: serviceLinking),
        .executableTarget(
            name: "cdb-bench",
            dependencies: ["LocalServers", "PostgresClient", "RedisClient", "HTTPClient", "MarketFeed", "ServiceHost", "StackContract", "EventBus", "Primitives", "TradingCore", "TradingServices", "PersistenceService",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),

        /// The one place tests find the shared directory beside the repository (`CDB_SHARED_DIR`, default
        /// `../shared`): only suites named `SharedData…` use it, and `scripts/test.sh shared` runs exactly those.
        .target(name: "SharedTestData", path: "Tests/SharedTestData", swiftSettings: strict),
        .testTarget(name: "SharedTestDataTests", dependencies: ["SharedTestData"], swiftSettings: strict),
        /// The trading stages without Redis: an in-memory bus and state store, entries built from events, a settable clock.
        .target(name: "StageTestKit", dependencies: ["TradingServices", "EventBus", "RedisClient", "ServiceHost", "TradingCore",
                                                     .product(name: "Logging", package: "swift-log"),
                                                     .product(name: "Prometheus", package: "swift-prometheus")],
                path: "Tests/StageTestKit", swiftSettings: strict),
        .testTarget(name: "TradingServicesTests", dependencies: ["StageTestKit", "TradingServices", "MarketDataService", "MarketFeed",
                                                                 "PersistenceService", "PostgresClient", "ServiceHost", "StackContract", "EventBus", "TradingCore", "RedisClient"],
                    swiftSettings: strict),

        .testTarget(name: "RunbookTests", dependencies: ["Runbook", "RunReports", "ChildProcesses", "Primitives", "StackContract", "LocalServers", "RedisClient", "PostgresClient", "TradeStore", "TradingCore", "ServiceHost", .product(name: "Hummingbird", package: "hummingbird")], swiftSettings: strict),
        .testTarget(name: "RunbookUnitTests", dependencies: ["Runbook", "RunReports", "HTTPClient", "YAMLParser", "SharedTestData", "TradingCore"], swiftSettings: strict),
        .testTarget(name: "DockerClientTests", dependencies: ["DockerClient"], swiftSettings: strict),
        .testTarget(name: "TradeStoreTests", dependencies: ["TradeStore", "LocalServers", "PostgresClient", "TradingCore", "Primitives"], swiftSettings: strict),
        .testTarget(
            name: "ServicePipelineTests",
            dependencies: ["LocalServers", "HTTPClient", "RedisClient", "PostgresClient", "TradingCore", "ServiceHost", "StackContract", "EventBus", "TradeStore", "TradingServices",
                           "PersistenceService", "MarketFeed", "MarketDataService", "SharedTestData"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MarketFeedTests",
            dependencies: [
                "MarketFeed", "TradingCore", "ChildProcesses", "Primitives", "SharedTestData",
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        /// The stack's configuration (services/): dashboard SQL on the real schema, metric names on running services.
        .testTarget(
            name: "StackConfigTests",
            dependencies: ["LocalServers", "HTTPClient", "PostgresClient", "TradeStore", "TradingCore", "YAMLParser"],
            swiftSettings: strict
        ),
        .testTarget(name: "TradingCoreTests", dependencies: ["TradingCore", "SharedTestData"], swiftSettings: strict),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "LocalServers"], swiftSettings: strict),
        .testTarget(name: "RedisClientTests", dependencies: ["RedisClient", "LocalServers", "Primitives"], swiftSettings: strict),
        .testTarget(
            name: "HTTPClientTests",
            dependencies: ["HTTPClient", .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: strict
        ),
        .testTarget(name: "YAMLParserTests", dependencies: ["YAMLParser"], swiftSettings: strict),
        .testTarget(name: "PlainTextTests", dependencies: ["PlainText"], swiftSettings: strict),
        .testTarget(name: "PrimitivesTests", dependencies: ["Primitives"], swiftSettings: strict),
        /// The catalogue against .env.example, checks/env.yaml and the compose file's defaults.
        .testTarget(name: "StackContractTests", dependencies: ["StackContract", "YAMLParser"], swiftSettings: strict),
        .testTarget(
            name: "ServiceHostTests",
            dependencies: ["ServiceHost", "StackContract", "EventBus", "HTTPClient", "LocalServers",
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: strict
        ),
    ]
)
