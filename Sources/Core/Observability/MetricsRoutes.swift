import Prometheus

/// The metrics server's one route: GET /metrics in the Prometheus text exposition format.
public enum MetricsRoutes {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func router(_ registry: PrometheusCollectorRegistry) -> ObservabilityRouter {
        { method, path in answer(registry, method: method, path: path) }
    }

    public static func answer(_ registry: PrometheusCollectorRegistry, method: String, path: String) -> ObservabilityResponse {
        guard method == "GET" || method == "HEAD" else { return .text(405, "only GET is served here\n") }
        guard path == "/metrics" else { return .text(404, "not found: \(path); metrics are at /metrics\n") }
        return ObservabilityResponse(status: 200, contentType: contentType, body: registry.emitToBuffer())
    }
}
