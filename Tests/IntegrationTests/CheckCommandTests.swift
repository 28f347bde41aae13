import Core
import Foundation
import Prometheus
import XCTest

/// `calico-node check` as the kubelet runs it, against the real health server.
final class CheckCommandTests: XCTestCase {
    private var servers: ObservabilityServers?

    override func tearDown() async throws {
        await servers?.stop()
        servers = nil
    }

    static func calicoNode() throws -> String {
        let path = URL(fileURLWithPath: try DevServer.binaryPath()).deletingLastPathComponent().appendingPathComponent("calico-node").path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw DevServerError("no calico-node at \(path); run `swift build`") }
        return path
    }

    private func check(_ args: [String], port: Int) throws -> (status: Int32, err: String) {
        let r = try DevServer.run(try Self.calicoNode(), ["check"] + args + ["--health-address", "127.0.0.1:\(port)", "--timeout", "3"])
        return (r.status, r.err)
    }

    func testProbeFlagsInBothSpellings() async throws {
        let health = HealthRegistry()
        let s = try await ObservabilityServers.start(health: health, metrics: PrometheusCollectorRegistry(),
                                                     healthAddress: ObservabilityAddress(host: "127.0.0.1", port: 0), metricsAddress: nil)
        servers = s
        let port = s.healthServer.port
        health.report("felix", ready: true, live: true, detail: "in sync")
        health.report("bgp", ready: false, live: true, detail: "0 of 2 peers Established")

        XCTAssertEqual(try check(["-felix-ready"], port: port).status, 0)
        XCTAssertEqual(try check(["--felix-ready", "--felix-live", "-bird-live", "--bgp-live"], port: port).status, 0)
        for spelling in [["-felix-ready", "-bird-ready"], ["--bgp-ready"], ["-bgp-ready"], ["--bird-ready"], ["-bird6-ready"]] {
            let r = try check(spelling, port: port)
            XCTAssertEqual(r.status, 1, "\(spelling)")
            XCTAssertTrue(r.err.contains("bgp readiness failed: bgp is not ready: 0 of 2 peers Established"), "\(spelling): \(r.err)")
        }
        health.report("bgp", ready: true, live: true, detail: "2 of 2 peers Established")
        XCTAssertEqual(try check(["-felix-ready", "-bird-ready"], port: port).status, 0)
        // Without --health-address the probe finds the server where FELIX_HEALTHPORT put it.
        var env = ProcessInfo.processInfo.environment
        env["FELIX_HEALTHPORT"] = String(port)
        let viaEnv = try DevServer.run(try Self.calicoNode(), ["check", "-felix-ready", "-bird-ready"], environment: env)
        XCTAssertEqual(viaEnv.status, 0, viaEnv.err)

        health.report("felix", ready: false, live: false, detail: "dataplane wedged")
        let live = try check(["--felix-live"], port: port)
        XCTAssertEqual(live.status, 1)
        XCTAssertTrue(live.err.contains("felix liveness failed: felix is not live: dataplane wedged"), live.err)

        // Policy-only: no BGP component at all.
        health.deregister("bgp")
        let missing = try check(["-bird-ready"], port: port)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("bgp is not running in this calico-node"), missing.err)
    }

    func testNoServerAndNoFlags() async throws {
        // A port nobody listens on: bind one, learn it, close it.
        let s = try await ObservabilityHTTPServer.start(at: ObservabilityAddress(host: "127.0.0.1", port: 0), router: { _, _ in .text(200, "") })
        let port = s.port
        await s.stop()
        let r = try check(["-felix-ready"], port: port)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("cannot reach the health endpoint"), r.err)
        let none = try check([], port: port)
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.err.contains("name at least one check"), none.err)
    }
}
