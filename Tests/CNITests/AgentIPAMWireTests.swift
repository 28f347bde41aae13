@testable import CNI
import Core
import XCTest

/// The codec of calico-ipam's one request to the agent and the agent's answer.
final class AgentIPAMWireTests: XCTestCase {
    func testRequestRoundTrip() throws {
        let r = AgentIPAMWire.Request(containerID: "abc", node: "n1", namespace: "default", pod: "p",
                                      ipam: .object(["type": .string("calico-ipam"), "ipv4_pools": .array([.string("pool-a")])]),
                                      requestedIPs: [IPNet(parsing: "10.0.0.5")!, IPNet(parsing: "fd00::5")!], lockFile: "/run/x.lock")
        let data = AgentIPAMWire.encode(r)
        XCTAssertEqual(try AgentIPAMWire.decodeRequest(data), r)
        let minimal = AgentIPAMWire.Request(containerID: "c", node: "n", namespace: nil, pod: nil, ipam: .object([:]), requestedIPs: [], lockFile: nil)
        XCTAssertEqual(String(decoding: AgentIPAMWire.encode(minimal), as: UTF8.self), #"{"containerID":"c","ipam":{},"node":"n"}"#)
        XCTAssertEqual(try AgentIPAMWire.decodeRequest(AgentIPAMWire.encode(minimal)), minimal)
    }

    func testMalformedRequestsNameTheField() {
        for (text, field) in [
            ("[]", "not a JSON object"), ("{", "not JSON"),
            (#"{"node":"n","ipam":{}}"#, "containerID is missing"),
            (#"{"containerID":"c","ipam":{}}"#, "node is missing"),
            (#"{"containerID":"c","node":"n"}"#, "ipam must be an object"),
            (#"{"containerID":"","node":"n","ipam":{}}"#, "containerID must be a non-empty string"),
            (#"{"containerID":"c","node":"n","ipam":{},"requestedIPs":["10.0.0.0/24"]}"#, "not an address"),
            (#"{"containerID":"c","node":"n","ipam":{},"requestedIPs":"10.0.0.1"}"#, "requestedIPs must be a list"),
        ] {
            XCTAssertThrowsError(try AgentIPAMWire.decodeRequest(Data(text.utf8)), text) { e in
                XCTAssertTrue("\(e)".contains(field), "\(text): \(e)")
            }
        }
    }

    func testOutcomesRoundTrip() throws {
        let ips = [IPNet(parsing: "10.0.0.5/32")!, IPNet(parsing: "fd00::5/128")!]
        var (status, body) = AgentIPAMWire.encode(.assigned(ips))
        XCTAssertEqual(status, 200)
        XCTAssertEqual(try AgentIPAMWire.decodeOutcome(status: status, body: body, assign: true), .assigned(ips))
        (status, body) = AgentIPAMWire.encode(.released)
        XCTAssertEqual(try AgentIPAMWire.decodeOutcome(status: status, body: body, assign: false), .released)
        let e = CNIError(code: 11, msg: "IPv4 pool p (10.0.0.0/30) exhausted", details: "d")
        (status, body) = AgentIPAMWire.encode(.failed(e))
        XCTAssertEqual(status, 422)
        XCTAssertEqual(try AgentIPAMWire.decodeOutcome(status: status, body: body, assign: true), .failed(e))
    }

    /// 404 (an agent without the endpoint) and 403 (an older agent's allow list): fall back.
    func testOlderAgentsMeanFallBack() throws {
        let status = AgentAPIStatus.body(code: 403, reason: "Forbidden", message: "not a resource the CNI plugins use")
        XCTAssertNil(try AgentIPAMWire.decodeOutcome(status: 403, body: status, assign: true))
        XCTAssertNil(try AgentIPAMWire.decodeOutcome(status: 404, body: Data("{}".utf8), assign: false))
        XCTAssertThrowsError(try AgentIPAMWire.decodeOutcome(status: 400, body: AgentAPIStatus.body(code: 400, reason: "BadRequest", message: "node is missing"), assign: true)) { e in
            XCTAssertTrue("\(e)".contains("status 400: node is missing"), "\(e)")
        }
        XCTAssertThrowsError(try AgentIPAMWire.decodeOutcome(status: 200, body: Data("{}".utf8), assign: true))
        XCTAssertThrowsError(try AgentIPAMWire.decodeOutcome(status: 422, body: Data(#"{"error":{}}"#.utf8), assign: true))
    }
}
