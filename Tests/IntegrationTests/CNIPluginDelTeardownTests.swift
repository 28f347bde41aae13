import CNI
import Core
import Foundation
import XCTest

/// DEL hands the kernel's RCU teardown of the veth to a child process (`DetachedLinkDelete`);
/// what the runtime relies on must still hold when DEL returns: both ends, the host route and
/// the pod's neighbour and routes gone, the names free for the next sandbox at once, also when
/// IPAM DEL fails half-way or the netns is already gone.
final class CNIPluginDelTeardownTests: CNIFixtureTestCase {
    override class var fixtureTag: String { "cdt" }

    private func assertTornDown(_ pod: CNIFixture.PodRef, netnsExists: Bool = true,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertFalse(fx.hostLinkExists(pod.hostVeth), "host veth left", file: file, line: line)
        XCTAssertEqual(try fx.hostRoutesToPods(), [], "host route left", file: file, line: line)
        guard netnsExists else { return }
        let ns = NetNamespace.named(pod.netnsName)
        XCTAssertFalse(try KernelFixture.ip(ns, ["-o", "link"]).contains("eth0"), "pod interface left", file: file, line: line)
        XCTAssertEqual(try KernelFixture.ip(ns, ["-4", "neigh", "show"]).trimmingCharacters(in: .whitespacesAndNewlines), "",
                       "pod neighbour left", file: file, line: line)
        XCTAssertEqual(try KernelFixture.ip(ns, ["-4", "route", "show"]).trimmingCharacters(in: .whitespacesAndNewlines), "",
                       "pod routes left", file: file, line: line)
    }

    func testDelReturnsWithEverythingGoneAndTheNextSandboxAddsAtOnce() throws {
        var pod = try fx.makePod("td")
        let config = fx.config(version: "1.0.0")
        for round in 0..<3 {
            let added = try fx.add(pod, config: config)
            let address = try XCTUnwrap(CNIFixture.address(added))
            XCTAssertTrue(fx.ping(from: nil, to: address), "host -> pod, round \(round)")
            let d = try fx.run("DEL", pod, config: config)
            XCTAssertEqual(d.status, 0, d.stdout + d.stderr)
            try assertTornDown(pod)
            XCTAssertEqual(fx.reservations(), [:], "address held after DEL, round \(round)")
            // The kubelet's next sandbox of the same pod: the same host veth name, right away.
            pod = try fx.newSandbox(of: pod)
        }
    }

    func testDelWhoseIPAMFailsStillRemovesTheVeth() throws {
        let script = fx.binDir + "/dtfail"
        try """
        #!/bin/sh
        if [ "$CNI_COMMAND" = DEL ]; then echo '{"cniVersion":"1.0.0","code":11,"msg":"ipam store unreachable"}'; exit 1; fi
        exec /usr/lib/cni/host-local
        """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let config = fx.config(version: "1.0.0", ipam: ["type": "dtfail", "subnet": fx.podCIDR, "dataDir": fx.dataDir])
        let pod = try fx.makePod("tdf")
        _ = try fx.add(pod, config: config)
        XCTAssertTrue(fx.hostLinkExists(pod.hostVeth))
        let d = try fx.run("DEL", pod, config: config)
        XCTAssertEqual(d.status, 1, d.stdout)
        XCTAssertEqual(d.code, 11, d.stdout)
        try assertTornDown(pod)
    }

    func testDelAfterTheNetnsIsGoneRemovesTheHostEnd() throws {
        let pod = try fx.makePod("tdn")
        let config = fx.config(version: "1.0.0")
        _ = try fx.add(pod, config: config)
        try fx.removeNetns(pod)
        let d = try fx.run("DEL", pod, config: config, netns: .some(nil))
        XCTAssertEqual(d.status, 0, d.stdout + d.stderr)
        try assertTornDown(pod, netnsExists: false)
        XCTAssertEqual(fx.reservations(), [:])
    }
}
