// Every setting of the stack, each once. The services and cdbctl read through these entries; `.env.example`,
// `checks/env.yaml` and the defaults in `services/docker-compose.yml` are held to them by StackContractTests.

private let services = SettingReader.services

extension Setting where Value == String {
    // Redis, PostgreSQL
    public static var redisHost: Self { .host("REDIS_HOST", default: "127.0.0.1", readers: services) }
    public static var redisPassword: Self { .secret("REDIS_PASSWORD", default: "", readers: services + [.cdbctl, .dockerStack]) }
    public static var postgresHost: Self { .host("POSTGRES_HOST", default: "127.0.0.1", readers: [.cdbDBWriter]) }
    public static var postgresUser: Self { .text("POSTGRES_USER", default: "claire_user", readers: [.cdbDBWriter, .cdbctl, .dockerStack]) }
    public static var postgresPassword: Self {
        .secret("POSTGRES_PASSWORD", minimumLength: 8, default: nil, readers: [.cdbDBWriter, .cdbctl, .dockerStack])
    }
    public static var postgresDB: Self { .text("POSTGRES_DB", default: "claire_de_binare", readers: [.cdbDBWriter, .cdbctl, .dockerStack]) }
    // Every service
    public static var logLevel: Self {
        .choice("LOG_LEVEL", ["trace", "debug", "info", "notice", "warning", "error", "critical"], default: "info", readers: services)
    }
    public static var consumerName: Self { Self("CONSUMER_NAME", .text, perReader: "the service's name", readers: services) }
    // cdb_risk, cdb_execution
    public static var riskResetToken: Self { .secret("RISK_RESET_TOKEN", default: "", readers: [.cdbRisk]) }
    public static var clock: Self { .choice("CLOCK", ["wall", "market"], default: "wall", readers: [.cdbRisk, .cdbExecution]) }
    // cdb_ws
    public static var feed: Self { .choice("FEED", ["synthetic", "replay", "mexc"], default: "synthetic", readers: [.cdbWS]) }
    public static var symbols: Self { .text("SYMBOLS", default: "BTCUSDT", readers: [.cdbWS]) }
    public static var replayFile: Self { .text("REPLAY_FILE", default: "", readers: [.cdbWS]) }
    public static var replaySpeed: Self { .text("REPLAY_SPEED", default: "realtime", readers: [.cdbWS]) }
    public static var replayEventTimes: Self { .choice("REPLAY_EVENT_TIMES", ["recorded", "emission"], default: "recorded", readers: [.cdbWS]) }
    public static var mexcURL: Self { .text("MEXC_WS_URL", default: "wss://wbs-api.mexc.com/ws", readers: [.cdbWS]) }
    // cdbctl and the docker stack
    public static var cdbHost: Self { .host("CDB_HOST", default: "127.0.0.1", readers: [.cdbctl]) }
    public static var composeProjectName: Self { .text("COMPOSE_PROJECT_NAME", default: "cdb", readers: [.cdbctl, .dockerStack]) }
    public static var containerPrefix: Self { .text("CDB_CONTAINER_PREFIX", default: "", readers: [.dockerStack]) }
    public static var bindAddress: Self { .host("CDB_BIND_ADDRESS", default: "127.0.0.1", readers: [.dockerStack]) }
    public static var grafanaPassword: Self { .secret("GRAFANA_PASSWORD", default: nil, readers: [.dockerStack]) }
    public static var prometheusRetention: Self { .text("PROMETHEUS_RETENTION", default: "15d", readers: [.dockerStack]) }
    public static var serviceMemoryLimit: Self { .text("CDB_SERVICE_MEM_LIMIT", default: "256m", readers: [.dockerStack]) }
    public static var redisMemoryLimit: Self { .text("CDB_REDIS_MEM_LIMIT", default: "512m", readers: [.dockerStack]) }
    /// Redis' own bound (`maxmemory`, noeviction): below the container limit, with room for an AOF rewrite's fork.
    public static var redisMaxMemory: Self { .text("REDIS_MAXMEMORY", default: "360mb", readers: [.dockerStack]) }
    public static var postgresMemoryLimit: Self { .text("CDB_POSTGRES_MEM_LIMIT", default: "1g", readers: [.dockerStack]) }
    public static var prometheusMemoryLimit: Self { .text("CDB_PROMETHEUS_MEM_LIMIT", default: "512m", readers: [.dockerStack]) }
    public static var grafanaMemoryLimit: Self { .text("CDB_GRAFANA_MEM_LIMIT", default: "256m", readers: [.dockerStack]) }
    public static var servicesImage: Self { .text("CDB_SERVICES_IMAGE", default: "claire-de-binare/services:\(CDBVersion.current)", readers: [.dockerStack]) }
    public static var redisImage: Self { .text("CDB_REDIS_IMAGE", default: "redis:7-bookworm", readers: [.dockerStack]) }
    public static var postgresImage: Self { .text("CDB_POSTGRES_IMAGE", default: "postgres:15-bookworm", readers: [.dockerStack]) }
    public static var prometheusImage: Self { .text("CDB_PROMETHEUS_IMAGE", default: "prom/prometheus:v2.42.0", readers: [.dockerStack]) }
    public static var grafanaImage: Self { .text("CDB_GRAFANA_IMAGE", default: "grafana/grafana:10.4.2", readers: [.dockerStack]) }
    // cdbctl's notifications (runbook.yaml's notifications: names these variables; all optional)
    /// The webhook's URL: its path or query is often the token, so it is a secret.
    public static var notifyWebhookURL: Self { .secret("CDB_NOTIFY_WEBHOOK_URL", default: "", readers: [.cdbctl]) }
    public static var notifySMTPURL: Self { .text("CDB_NOTIFY_SMTP_URL", default: "", readers: [.cdbctl]) }
    public static var notifySMTPUser: Self { .text("CDB_NOTIFY_SMTP_USER", default: "", readers: [.cdbctl]) }
    public static var notifySMTPPassword: Self { .secret("CDB_NOTIFY_SMTP_PASSWORD", default: "", readers: [.cdbctl]) }
    public static var notifyEmailFrom: Self { .text("CDB_NOTIFY_EMAIL_FROM", default: "", readers: [.cdbctl]) }
    public static var notifyEmailTo: Self { .text("CDB_NOTIFY_EMAIL_TO", default: "", readers: [.cdbctl]) }
    /// Seed §9.1's escalation levels' own recipients.
    public static var notifyEscalationL2: Self { .text("CDB_NOTIFY_ESCALATION_L2", default: "", readers: [.cdbctl]) }
    public static var notifyEscalationL3: Self { .text("CDB_NOTIFY_ESCALATION_L3", default: "", readers: [.cdbctl]) }
}

extension Setting where Value == Int {
    // Redis, PostgreSQL
    public static var redisPort: Self { .port("REDIS_PORT", default: 6379, readers: services + [.cdbctl, .dockerStack]) }
    public static var redisDB: Self { .integer("REDIS_DB", 0...15, default: 0, readers: services + [.cdbctl]) }
    public static var streamMaxLength: Self { .integer("STREAM_MAXLEN", 1_000...100_000_000, default: 1_000_000, readers: services) }
    /// How long `market_data` keeps ticks (MINID by entry time): a week of a live feed does not fit in Redis.
    public static var marketDataRetentionHours: Self { .integer("MARKET_DATA_RETENTION_HOURS", 1...168, default: 12, readers: [.cdbWS]) }
    public static var postgresPort: Self { .port("POSTGRES_PORT", default: 5432, readers: [.cdbDBWriter, .cdbctl, .dockerStack]) }
    public static var dbBatchSize: Self { .integer("DB_BATCH_SIZE", 1...10_000, default: 500, readers: [.cdbDBWriter]) }
    /// How long the persisted streams keep what every reader has acknowledged: a restore replays the bus since its
    /// backup, and backups are daily (`destructive_backup_max_age` 25 h), so the default keeps two days.
    public static var persistedRetentionHours: Self { .integer("PERSISTED_RETENTION_HOURS", 26...720, default: 48, readers: [.cdbDBWriter]) }
    // Every service
    public static var httpPort: Self {
        Self("HTTP_PORT", .port, perReader: "the service's port: cdb_ws 8000, cdb_core 8001, cdb_risk 8002, cdb_execution 8003, cdb_db_writer 8004",
             readers: services)
    }
    public static var mallocArenaMax: Self { .integer("MALLOC_ARENA_MAX", 1...64, default: 1, readers: services) }
    // cdb_risk, cdb_execution
    public static var dataStaleTimeoutSec: Self { .integer("DATA_STALE_TIMEOUT_SEC", 10...300, default: 30, readers: [.cdbWS, .cdbRisk, .cdbExecution]) }
    public static var snapshotIntervalSec: Self { .integer("SNAPSHOT_INTERVAL_SEC", 1...86_400, default: 3_600, readers: [.cdbRisk]) }
    public static var markSaveIntervalMs: Self { .integer("MARK_SAVE_INTERVAL_MS", 0...60_000, default: 1_000, readers: [.cdbRisk]) }
    public static var marketClockWaitMs: Self { .integer("MARKET_CLOCK_WAIT_MS", 0...60_000, default: 5_000, readers: [.cdbRisk, .cdbExecution]) }
    public static var simulatedLatencyMs: Self { .integer("SIMULATED_LATENCY_MS", 0...5_000, default: 0, readers: [.cdbExecution]) }
    // cdb_core
    public static var strategyShortWindow: Self { .integer("STRATEGY_SHORT_WINDOW", 1...1_000, default: 3, readers: [.cdbCore]) }
    public static var strategyLongWindow: Self { .integer("STRATEGY_LONG_WINDOW", 2...10_000, default: 10, readers: [.cdbCore]) }
    public static var strategyCooldownTicks: Self { .integer("STRATEGY_COOLDOWN_TICKS", 0...100_000, default: 3, readers: [.cdbCore]) }
    // cdb_ws
    public static var syntheticIntervalMs: Self { .integer("SYNTHETIC_INTERVAL_MS", 0...3_600_000, default: 1_000, readers: [.cdbWS]) }
    public static var syntheticSeed: Self { .integer("SYNTHETIC_SEED", 0...Int.max, default: 42, readers: [.cdbWS]) }
    // cdbctl and the docker stack: the host ports the stack is published on
    public static var wsPort: Self { .port("CDB_WS_PORT", default: 8000, readers: [.cdbctl, .dockerStack]) }
    public static var corePort: Self { .port("CDB_CORE_PORT", default: 8001, readers: [.cdbctl, .dockerStack]) }
    public static var riskPort: Self { .port("CDB_RISK_PORT", default: 8002, readers: [.cdbctl, .dockerStack]) }
    public static var executionPort: Self { .port("CDB_EXECUTION_PORT", default: 8003, readers: [.cdbctl, .dockerStack]) }
    public static var dbWriterPort: Self { .port("CDB_DB_WRITER_PORT", default: 8004, readers: [.cdbctl, .dockerStack]) }
    public static var prometheusPort: Self { .port("CDB_PROMETHEUS_PORT", default: 19_090, readers: [.cdbctl, .dockerStack]) }
    public static var grafanaPort: Self { .port("CDB_GRAFANA_PORT", default: 3_000, readers: [.cdbctl, .dockerStack]) }
}

extension Setting where Value == Double {
    // cdb_risk (fractions, not percent)
    public static var maxPositionPct: Self { .decimal("MAX_POSITION_PCT", 0.01...1, default: 0.10, readers: [.cdbRisk]) }
    public static var maxTotalExposurePct: Self { .decimal("MAX_TOTAL_EXPOSURE_PCT", 0.1...1, default: 0.30, readers: [.cdbRisk]) }
    public static var maxDailyDrawdownPct: Self { .decimal("MAX_DAILY_DRAWDOWN_PCT", 0.01...0.5, default: 0.05, readers: [.cdbRisk]) }
    public static var circuitBreakerThresholdPct: Self {
        .decimal("CIRCUIT_BREAKER_THRESHOLD_PCT", 0.05...0.5, default: 0.10, readers: [.cdbRisk])
    }
    public static var maxSlippagePct: Self { .decimal("MAX_SLIPPAGE_PCT", 0.001...0.1, default: 0.01, readers: [.cdbRisk]) }
    public static var startingCapitalUSD: Self { .decimal("STARTING_CAPITAL_USD", 100...1_000_000_000, default: 100_000, readers: [.cdbRisk, .cdbctl]) }
    // cdb_core
    public static var strategyThreshold: Self { .decimal("STRATEGY_THRESHOLD", 0...0.1, default: 0.0003, readers: [.cdbCore]) }
    // cdb_execution
    public static var takerFeePct: Self { .decimal("TAKER_FEE_PCT", 0...0.01, default: 0.0005, readers: [.cdbExecution, .cdbRisk]) }
    public static var slippageBasePct: Self { .decimal("SLIPPAGE_BASE_PCT", 0...0.05, default: 0.0002, readers: [.cdbExecution, .cdbRisk]) }
    public static var slippageImpactPct: Self { .decimal("SLIPPAGE_IMPACT_PCT", 0...0.05, default: 0.0005, readers: [.cdbExecution, .cdbRisk]) }
}

/// The whole catalogue.
public enum SettingsCatalogue {
    public static let all: [SettingDefinition] = texts.map(\.definition) + integers.map(\.definition) + decimals.map(\.definition)

    /// The entry of `name`, if the catalogue has one.
    public static func definition(of name: String) -> SettingDefinition? {
        all.first { $0.name == name }
    }

    private static let texts: [Setting<String>] = [
        .redisHost, .redisPassword, .postgresHost, .postgresUser, .postgresPassword, .postgresDB, .logLevel, .consumerName,
        .riskResetToken, .clock, .feed, .symbols, .replayFile, .replaySpeed, .replayEventTimes, .mexcURL,
        .cdbHost, .composeProjectName, .containerPrefix, .bindAddress, .grafanaPassword, .prometheusRetention,
        .serviceMemoryLimit, .redisMemoryLimit, .redisMaxMemory, .postgresMemoryLimit, .prometheusMemoryLimit, .grafanaMemoryLimit,
        .servicesImage, .redisImage, .postgresImage, .prometheusImage, .grafanaImage,
        .notifyWebhookURL, .notifySMTPURL, .notifySMTPUser, .notifySMTPPassword, .notifyEmailFrom, .notifyEmailTo,
        .notifyEscalationL2, .notifyEscalationL3,
    ]

    private static let integers: [Setting<Int>] = [
        .redisPort, .redisDB, .streamMaxLength, .marketDataRetentionHours, .postgresPort, .dbBatchSize, .persistedRetentionHours, .httpPort, .mallocArenaMax,
        .dataStaleTimeoutSec, .snapshotIntervalSec, .markSaveIntervalMs, .marketClockWaitMs, .simulatedLatencyMs,
        .strategyShortWindow, .strategyLongWindow, .strategyCooldownTicks, .syntheticIntervalMs, .syntheticSeed,
        .wsPort, .corePort, .riskPort, .executionPort, .dbWriterPort, .prometheusPort, .grafanaPort,
    ]

    private static let decimals: [Setting<Double>] = [
        .maxPositionPct, .maxTotalExposurePct, .maxDailyDrawdownPct, .circuitBreakerThresholdPct, .maxSlippagePct,
        .startingCapitalUSD, .strategyThreshold, .takerFeePct, .slippageBasePct, .slippageImpactPct,
    ]
}
