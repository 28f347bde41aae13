import Foundation

/// The health server's routes: GET /readiness and /liveness answer 200 when every component is
/// ready (live), else 503, with every component's state as JSON; extra JSON endpoints that
/// components registered come next; anything else is 404.
public enum HealthRoutes {
    public static func router(_ registry: HealthRegistry) -> ObservabilityRouter {
        { method, path in await answer(registry, method: method, path: path) }
    }

    public static func answer(_ registry: HealthRegistry, method: String, path: String) async -> ObservabilityResponse {
        guard method == "GET" || method == "HEAD" else {
            return .text(405, "only GET is served here\n")
        }
        switch path {
        case "/readiness", "/liveness":
            let snapshot = registry.snapshot()
            let ok = path == "/readiness"
                ? !snapshot.isEmpty && snapshot.values.allSatisfy(\.ready)
                : snapshot.values.allSatisfy(\.live)
            return .json(ok ? 200 : 503, encode(snapshot))
        default:
            guard let endpoint = registry.endpoint(path) else {
                return .text(404, "not found: \(path)\n")
            }
            do {
                return .json(200, try await endpoint.body())
            } catch {
                return .json(500, encode(["error": "\(error)"]))
            }
        }
    }

    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }
}
