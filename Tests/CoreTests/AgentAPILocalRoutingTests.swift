@testable import Core
import XCTest

/// The agent's own endpoints (`/calico-agent/...`): served by the local handler, never
/// forwarded to the API server; 404 from an agent without one (the plugin's fallback signal).
final class AgentAPILocalRoutingTests: XCTestCase {
    private final class Calls: @unchecked Sendable {
        let lock = NSLock()
        var local: [(String, Data)] = []
        var forwarded = 0
    }

    private func answer(_ method: String, _ target: String, body: Data? = Data("{}".utf8), type: String? = "application/json",
                        serving: Bool = true) async -> (AgentAPIRouting.Answer, Calls) {
        let calls = Calls()
        let local: AgentAPIRouting.Local? = serving ? { @Sendable path, body in
            calls.lock.withLock { calls.local.append((path, body)) }
            return AgentAPIRouting.Answer(status: 200, body: Data(#"{"ips":[]}"#.utf8))
        } : nil
        let a = await AgentAPIRouting.answer(method: method, target: target, body: body, contentType: type, local: local) { _, _, _, _ in
            calls.lock.withLock { calls.forwarded += 1 }
            return (200, Data())
        }
        return (a, calls)
    }

    func testLocalEndpointGetsPathAndBodyAndIsNotForwarded() async {
        let body = Data(#"{"containerID":"c1"}"#.utf8)
        let (a, calls) = await answer("POST", "/calico-agent/v1/ipam/assign", body: body, type: "application/json; charset=utf-8")
        XCTAssertEqual(a.status, 200)
        XCTAssertEqual(a.body, Data(#"{"ips":[]}"#.utf8))
        XCTAssertEqual(calls.local.map(\.0), ["/calico-agent/v1/ipam/assign"])
        XCTAssertEqual(calls.local.first?.1, body)
        XCTAssertEqual(calls.forwarded, 0)
    }

    func testAnAgentWithoutLocalEndpointsAnswers404() async throws {
        let (a, calls) = await answer("POST", "/calico-agent/v1/ipam/assign", serving: false)
        XCTAssertEqual(a.status, 404)
        XCTAssertTrue(AgentAPIStatus.message(String(decoding: a.body, as: UTF8.self)).contains("serves no endpoint /calico-agent/v1/ipam/assign"))
        XCTAssertEqual(calls.forwarded, 0)
    }

    func testWrongMethodQueryTypeOrSizeIsRefusedBeforeTheHandler() async {
        for (method, target, type, body, status) in [
            ("GET", "/calico-agent/v1/ipam/assign", "application/json", Data(), 405),
            ("POST", "/calico-agent/v1/ipam/assign?x=1", "application/json", Data("{}".utf8), 400),
            ("POST", "/calico-agent/v1/ipam/assign", "text/plain", Data("{}".utf8), 415),
            ("POST", "/calico-agent/v1/ipam/assign", nil, Data("{}".utf8), 415),
            ("POST", "/calico-agent/v1/ipam/assign", "application/json", Data(count: AgentAPIRouting.maxRequestBody + 1), 413),
        ] as [(String, String, String?, Data, Int)] {
            let (a, calls) = await answer(method, target, body: body, type: type)
            XCTAssertEqual(a.status, status, "\(method) \(target) \(type ?? "-")")
            XCTAssertTrue(calls.local.isEmpty)
            XCTAssertEqual(calls.forwarded, 0)
        }
    }

    /// An older agent routes the path through its allow list: 403, never forwarded.
    func testTheAllowListRefusesAgentPaths() {
        guard case .forbid = AgentAPIAllowList.check(method: "POST", target: "/calico-agent/v1/ipam/assign") else {
            return XCTFail("an agent path must not be forwardable")
        }
    }
}
