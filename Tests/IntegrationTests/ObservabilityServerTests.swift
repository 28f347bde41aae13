import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Prometheus
import XCTest

/// The real servers on loopback (port 0: the kernel picks a free port), spoken to over HTTP.
final class ObservabilityServerTests: XCTestCase {
    private static func get(_ url: String) async throws -> (Int, String, String) {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 5
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try XCTUnwrap(response as? HTTPURLResponse)
        return (http.statusCode, http.value(forHTTPHeaderField: "Content-Type") ?? "", String(decoding: data, as: UTF8.self))
    }

    func testHealthAndMetricsServersAnswerOverHTTP() async throws {
        let health = HealthRegistry()
        let metrics = PrometheusCollectorRegistry()
        let counter = metrics.makeCounter(descriptor: MetricNameDescriptor(metricName: "obs_test_events", unitName: "total", helpText: "events"))
        let servers = try await ObservabilityServers.start(
            health: health, metrics: metrics,
            healthAddress: ObservabilityAddress(host: "127.0.0.1", port: 0),
            metricsAddress: ObservabilityAddress(host: "127.0.0.1", port: 0))
        let h = "http://127.0.0.1:\(servers.healthServer.port)"
        let m = "http://127.0.0.1:\(try XCTUnwrap(servers.metricsServer).port)"
        XCTAssertNotEqual(servers.healthServer.port, 0)

        health.register("felix")
        var (status, type, body) = try await Self.get(h + "/readiness")
        XCTAssertEqual(status, 503)
        XCTAssertEqual(type, "application/json")
        XCTAssertTrue(body.contains(#""felix":{"detail":"starting","live":true,"ready":false}"#), body)

        health.report("felix", ready: true, live: true, detail: "programmed")
        (status, _, body) = try await Self.get(h + "/readiness?verbose=1")
        XCTAssertEqual(status, 200, body)
        (status, _, _) = try await Self.get(h + "/liveness")
        XCTAssertEqual(status, 200)

        health.addJSONEndpoint("/bgp/peers", value: { ["10.0.0.2": "Established"] })
        (status, _, body) = try await Self.get(h + "/bgp/peers")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(body, #"{"10.0.0.2":"Established"}"#)

        counter.increment(by: Int64(3))
        (status, type, body) = try await Self.get(m + "/metrics")
        XCTAssertEqual(status, 200)
        XCTAssertTrue(type.hasPrefix("text/plain"))
        XCTAssertTrue(body.contains("obs_test_events_total 3"), body)
        (status, _, _) = try await Self.get(h + "/metrics")
        XCTAssertEqual(status, 404, "metrics live on their own server")

        // Many concurrent probes are all answered.
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<50 { group.addTask { try await Self.get(h + "/liveness").0 } }
            for try await s in group { XCTAssertEqual(s, 200) }
        }

        await servers.stop()
        do {
            _ = try await Self.get(h + "/liveness")
            XCTFail("server still answers after stop")
        } catch {}
    }

    func testBindingAPortInUseSaysWhatToDo() async throws {
        let first = try await ObservabilityHTTPServer.start(at: ObservabilityAddress(host: "127.0.0.1", port: 0)) { _, _ in .text(200, "") }
        defer { Task { await first.stop() } }
        do {
            let second = try await ObservabilityHTTPServer.start(at: first.address) { _, _ in .text(200, "") }
            await second.stop()
            XCTFail("bound the same port twice")
        } catch let error as ObservabilityError {
            XCTAssertTrue("\(error)".contains("cannot listen on 127.0.0.1:\(first.port)"), "\(error)")
        }
    }
}
