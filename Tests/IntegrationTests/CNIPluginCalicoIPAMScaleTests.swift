import CNI
import Core
import Foundation
import XCTest

/// The calico plugin delegating to calico-ipam (our own binary, as the kubelet's CNI_PATH would
/// hold it) under the kubelet's concurrency: 50 parallel ADDs on one node get 50 distinct,
/// reachable addresses from the node's affine blocks, and 50 parallel DELs leave no allocation,
/// no handle, no route and no link.
final class CNIPluginCalicoIPAMScaleTests: CNIFixtureTestCase {
    override class var fixtureTag: String { "cci" }

    private func calicoIPAMConfig() throws -> [String: Any] {
        try FileManager.default.createSymbolicLink(atPath: fx.binDir + "/calico-ipam",
                                                   withDestinationPath: try CNIFixture.calicoNodeBinary())
        let pool = """
        {"apiVersion":"crd.projectcalico.org/v1","kind":"IPPool","metadata":{"name":"\(fx.tag)-pool"},
         "spec":{"cidr":"\(fx.podCIDR)","blockSize":26,"ipipMode":"Never","natOutgoing":false}}
        """
        let made = try fx.server.curl("/apis/crd.projectcalico.org/v1/ippools", method: "POST", body: pool)
        XCTAssertTrue(made.code == 201 || made.code == 200, "create IPPool: \(made.code) \(made.body)")
        return fx.config(version: "1.0.0", ipam: ["type": "calico-ipam", "assign_ipv4": "true"])
    }

    /// Allocated ordinals over every IPAMBlock, and the IPAMHandles, as the datastore holds them.
    private func held() throws -> (allocations: Int, handles: [String]) {
        let blocks = try fx.server.curl("/apis/crd.projectcalico.org/v1/ipamblocks")
        let handles = try fx.server.curl("/apis/crd.projectcalico.org/v1/ipamhandles")
        let b = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(blocks.body.utf8)) as? [String: Any])
        let h = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(handles.body.utf8)) as? [String: Any])
        var allocated = 0
        for block in b["items"] as? [[String: Any]] ?? [] {
            let spec = block["spec"] as? [String: Any] ?? [:]
            allocated += (spec["allocations"] as? [Any] ?? []).filter { !($0 is NSNull) }.count
        }
        let names = (h["items"] as? [[String: Any]] ?? []).compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }
        return (allocated, names)
    }

    func testFiftyParallelAddsThenDelsWithCalicoIPAM() throws {
        let n = 50
        let fx = self.fx!
        let config = try calicoIPAMConfig()
        let env = ["CALICO_IPAM_LOCK_FILE": fx.dir + "/ipam.lock"]
        let pods = try (0..<n).map { try fx.makePod("cip\($0)") }
        var addresses: [String] = []
        for (i, r) in runInParallel("ADD", pods, config: config, extraEnv: env).enumerated() {
            XCTAssertEqual(r.status, 0, "ADD \(i): \(r.stdout) \(r.stderr)")
            if let a = CNIFixture.address(r.json) { addresses.append(a) }
        }
        XCTAssertEqual(addresses.count, n)
        XCTAssertEqual(Set(addresses).count, n, "50 distinct addresses")
        let during = try held()
        XCTAssertEqual(during.allocations, n, "one allocation per pod")
        XCTAssertEqual(Set(during.handles), Set(pods.map { "k8s-pod-network.\($0.containerID)" }))
        for (i, a) in addresses.enumerated() {
            XCTAssertTrue(fx.ping(from: nil, to: a), "host -> pod \(i) \(a)")
        }
        XCTAssertTrue(fx.ping(from: pods[0], to: addresses[n - 1]), "pod -> pod")

        let dels = runInParallel("DEL", pods, config: config, extraEnv: env)
        for i in 0..<n {
            XCTAssertEqual(dels[i].status, 0, "DEL \(i): \(dels[i].stdout)")
            XCTAssertFalse(fx.hostLinkExists(pods[i].hostVeth), "link of pod \(i)")
        }
        let after = try held()
        XCTAssertEqual(after.allocations, 0, "no allocation left")
        XCTAssertEqual(after.handles, [], "no handle left")
        XCTAssertEqual(try fx.hostRoutesToPods(), [], "no route left")
    }
}
