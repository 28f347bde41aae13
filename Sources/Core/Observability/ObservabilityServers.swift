import Prometheus

/// The process's one health server and one metrics server, shared by every role it runs.
public final class ObservabilityServers: Sendable {
    public let health: HealthRegistry
    public let metrics: PrometheusCollectorRegistry
    public let healthServer: ObservabilityHTTPServer
    /// Nil when metrics are disabled.
    public let metricsServer: ObservabilityHTTPServer?

    private init(health: HealthRegistry, metrics: PrometheusCollectorRegistry,
                 healthServer: ObservabilityHTTPServer, metricsServer: ObservabilityHTTPServer?) {
        self.health = health
        self.metrics = metrics
        self.healthServer = healthServer
        self.metricsServer = metricsServer
    }

    /// Starts both servers (the metrics one only when `metricsAddress` is given).
    public static func start(
        health: HealthRegistry,
        metrics: PrometheusCollectorRegistry,
        healthAddress: ObservabilityAddress = .defaultHealth,
        metricsAddress: ObservabilityAddress? = .defaultMetrics
    ) async throws -> ObservabilityServers {
        let h = try await ObservabilityHTTPServer.start(at: healthAddress, router: HealthRoutes.router(health))
        var m: ObservabilityHTTPServer?
        if let metricsAddress {
            do {
                m = try await ObservabilityHTTPServer.start(at: metricsAddress, router: MetricsRoutes.router(metrics))
            } catch {
                await h.stop()
                throw error
            }
        }
        return ObservabilityServers(health: health, metrics: metrics, healthServer: h, metricsServer: m)
    }

    public func stop() async {
        await healthServer.stop()
        await metricsServer?.stop()
    }
}

extension ObservabilityServers {
    /// Both servers where felix's configuration puts them (health host/port; metrics host/port
    /// when enabled).
    public static func start(health: HealthRegistry, metrics: PrometheusCollectorRegistry, config: FelixConfig) async throws -> ObservabilityServers {
        try await start(
            health: health, metrics: metrics,
            healthAddress: ObservabilityAddress(host: config.healthHost, port: config.healthPort),
            metricsAddress: config.prometheusMetricsEnabled
                ? ObservabilityAddress(host: config.prometheusMetricsHost, port: config.prometheusMetricsPort) : nil)
    }
}
