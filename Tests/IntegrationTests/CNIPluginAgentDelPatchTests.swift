import Foundation
import XCTest
@testable import CNI
@testable import Core

/// DEL's Pod update through the agent as one JSON patch whose `test` checks the recorded
/// container ID: this sandbox's DEL blanks the addresses, an old sandbox's late DEL (another ID
/// recorded) leaves the new ones, and a Pod with no recorded ID (the test fails, the plugin
/// reads the Pod) is blanked as before.
final class CNIPluginAgentDelPatchTests: CNIAgentTestCase {
    override class var fixtureTag: String { "cdp" }

    private var env: [String: String] { ["CALICO_CNI_API_SOCKET": socketPath, "CALICO_CNI_TIMING": "1"] }

    func testDelPatchTestsTheContainerID() throws {
        try startAgent()
        let config = fx.config(version: "1.0.0")
        let old = try fx.makePod("recreated")
        let a1 = try fx.run("ADD", old, config: config, extraEnv: env)
        XCTAssertEqual(a1.status, 0, a1.stdout + a1.stderr)
        XCTAssertTrue(a1.stderr.contains("api via the agent socket"), a1.stderr)
        let new = try fx.newSandbox(of: old)
        let a2 = try fx.run("ADD", new, config: config, extraEnv: env)
        XCTAssertEqual(a2.status, 0, a2.stdout + a2.stderr)
        let addr = try XCTUnwrap(CNIFixture.address(a2.json))

        // The old sandbox's late DEL: the recorded ID is the new one, so nothing is blanked.
        let d1 = try fx.run("DEL", old, config: config, extraEnv: env)
        XCTAssertEqual(d1.status, 0, d1.stdout + d1.stderr)
        var ann = try fx.annotations(new)
        XCTAssertEqual(ann[PodAnnotations.podIP], "\(addr)/32")
        XCTAssertEqual(ann[PodAnnotations.podIPs], "\(addr)/32")
        XCTAssertEqual(ann[PodAnnotations.containerID], new.containerID)

        // The current sandbox's DEL blanks them (and a second DEL is still fine).
        let d2 = try fx.run("DEL", new, config: config, extraEnv: env)
        XCTAssertEqual(d2.status, 0, d2.stdout + d2.stderr)
        ann = try fx.annotations(new)
        XCTAssertEqual(ann[PodAnnotations.podIP], "")
        XCTAssertEqual(ann[PodAnnotations.podIPs], "")
        XCTAssertEqual(try fx.run("DEL", new, config: config, extraEnv: env).status, 0)
        XCTAssertEqual(fx.reservations(), [:])

        // No recorded container ID (written by something else): the DEL still blanks.
        let other = try fx.makePod("noid")
        let a3 = try fx.run("ADD", other, config: config, extraEnv: env)
        XCTAssertEqual(a3.status, 0, a3.stdout + a3.stderr)
        let patch = #"{"metadata":{"annotations":{"cni.projectcalico.org/containerID":null}}}"#
        let r = try fx.server.curl("/api/v1/namespaces/default/pods/\(other.name)", method: "PATCH", body: patch,
                                   contentType: "application/merge-patch+json")
        XCTAssertEqual(r.code, 200, r.body)
        XCTAssertNil(try fx.annotations(other)[PodAnnotations.containerID])
        let d3 = try fx.run("DEL", other, config: config, extraEnv: env)
        XCTAssertEqual(d3.status, 0, d3.stdout + d3.stderr)
        XCTAssertEqual(try fx.annotations(other)[PodAnnotations.podIP], "")
        XCTAssertEqual(fx.reservations(), [:])
    }
}
