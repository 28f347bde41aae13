import Core
import Foundation
import Prometheus
import XCTest

final class ObservabilityHealthTests: XCTestCase {
    private func decode(_ body: [UInt8]) throws -> [String: ComponentHealth] {
        try JSONDecoder().decode([String: ComponentHealth].self, from: Data(body))
    }

    func testReadinessNeedsEveryComponentReady() async throws {
        let registry = HealthRegistry()
        var r = await HealthRoutes.answer(registry, method: "GET", path: "/readiness")
        XCTAssertEqual(r.status, 503, "no component yet: not ready")

        registry.register("felix")
        registry.report("bgp", ready: true, live: true, detail: "2 peers established")
        r = await HealthRoutes.answer(registry, method: "GET", path: "/readiness")
        XCTAssertEqual(r.status, 503)
        let body = try decode(r.body)
        XCTAssertEqual(body["felix"], ComponentHealth(ready: false, live: true, detail: "starting"))
        XCTAssertEqual(body["bgp"], ComponentHealth(ready: true, live: true, detail: "2 peers established"))

        registry.report("felix", ready: true, live: true, detail: "in sync")
        r = await HealthRoutes.answer(registry, method: "GET", path: "/readiness")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.contentType, "application/json")
        XCTAssertTrue(registry.isReady)
    }

    func testLivenessFailsWhenAnyComponentIsNotLive() async throws {
        let registry = HealthRegistry()
        var r = await HealthRoutes.answer(registry, method: "GET", path: "/liveness")
        XCTAssertEqual(r.status, 200, "a process with no component is alive")
        registry.report("felix", ready: false, live: true, detail: "")
        registry.report("bgp", ready: true, live: false, detail: "socket loop stopped")
        r = await HealthRoutes.answer(registry, method: "GET", path: "/liveness")
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(try decode(r.body)["bgp"]?.detail, "socket loop stopped")
        registry.deregister("bgp")
        r = await HealthRoutes.answer(registry, method: "GET", path: "/liveness")
        XCTAssertEqual(r.status, 200)
    }

    func testStaleReportsStopCountingAsLive() async throws {
        final class Clock: @unchecked Sendable { var t = Date(timeIntervalSince1970: 1000) }
        let clock = Clock()
        let registry = HealthRegistry(now: { clock.t })
        registry.register("felix", livenessTimeout: 30)
        registry.report("felix", ready: true, live: true, detail: "in sync")
        clock.t += 10
        XCTAssertTrue(registry.isLive)
        clock.t += 31
        XCTAssertFalse(registry.isLive)
        let h = try XCTUnwrap(registry.health(of: "felix"))
        XCTAssertFalse(h.live)
        XCTAssertTrue(h.detail.contains("no report for 41s"), h.detail)
        XCTAssertTrue(h.ready, "staleness is about liveness only")
        registry.report("felix", ready: true, live: true, detail: "in sync")
        XCTAssertTrue(registry.isLive)
    }

    func testExtraJSONEndpointsAndUnknownPaths() async throws {
        struct Peer: Encodable, Sendable { var address: String; var state: String }
        let registry = HealthRegistry()
        registry.addJSONEndpoint("/bgp/peers", value: { [Peer(address: "10.0.0.2", state: "Established")] })
        var r = await HealthRoutes.answer(registry, method: "GET", path: "/bgp/peers")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), #"[{"address":"10.0.0.2","state":"Established"}]"#)

        struct Broken: Error {}
        registry.addJSONEndpoint("/broken") { throw Broken() }
        r = await HealthRoutes.answer(registry, method: "GET", path: "/broken")
        XCTAssertEqual(r.status, 500)

        r = await HealthRoutes.answer(registry, method: "GET", path: "/nothing")
        XCTAssertEqual(r.status, 404)
        r = await HealthRoutes.answer(registry, method: "POST", path: "/readiness")
        XCTAssertEqual(r.status, 405)
        registry.removeJSONEndpoint("/bgp/peers")
        r = await HealthRoutes.answer(registry, method: "GET", path: "/bgp/peers")
        XCTAssertEqual(r.status, 404)
    }

    func testMetricsRouteEmitsPrometheusText() {
        let registry = PrometheusCollectorRegistry()
        let gauge = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "felix_active_local_endpoints", unitName: "", helpText: "endpoints"))
        gauge.set(to: 42)
        let r = MetricsRoutes.answer(registry, method: "GET", path: "/metrics")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.contentType, MetricsRoutes.contentType)
        let text = String(decoding: r.body, as: UTF8.self)
        XCTAssertTrue(text.contains("# TYPE felix_active_local_endpoints gauge"), text)
        XCTAssertTrue(text.contains("felix_active_local_endpoints 42"), text)
        XCTAssertEqual(MetricsRoutes.answer(registry, method: "GET", path: "/readiness").status, 404)
    }

    func testAddressDescription() {
        XCTAssertEqual(ObservabilityAddress.defaultHealth.description, "127.0.0.1:9099")
        XCTAssertEqual(ObservabilityAddress.defaultMetrics.description, "127.0.0.1:9091")
        XCTAssertEqual(ObservabilityAddress(host: "::1", port: 1).description, "[::1]:1")
    }
}
