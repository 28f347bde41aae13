import CNI
import Core
import Foundation
import XCTest

/// STATUS (is the datastore reachable, is the IPAM plugin there) and GC (release what belongs
/// to no valid attachment, remove its host veth) from spec 1.1.0.
final class CNIPluginStatusGCTests: CNIFixtureTestCase {
    override class var fixtureTag: String { "cng" }

    func testStatus() throws {
        let ok = try fx.run("STATUS", nil, config: fx.config(version: "1.1.0"))
        XCTAssertEqual(ok.status, 0, ok.stdout)
        XCTAssertEqual(ok.stdout, "")

        let old = try fx.run("STATUS", nil, config: fx.config(version: "1.0.0"))
        XCTAssertEqual(old.code, 1, old.stdout)

        let noIPAM = try fx.run("STATUS", nil, config: fx.config(version: "1.1.0", ipam: ["type": "calico-ipam-missing"]))
        XCTAssertEqual(noIPAM.code, 50, noIPAM.stdout)
        XCTAssertTrue((noIPAM.json["msg"] as? String ?? "").contains("calico-ipam-missing"), noIPAM.stdout)

        fx.server.stop()
        let down = try fx.run("STATUS", nil, config: fx.config(version: "1.1.0"))
        XCTAssertEqual(down.code, 50, down.stdout)
        XCTAssertTrue((down.json["msg"] as? String ?? "").contains("Kubernetes API"), down.stdout)
    }

    func testGCReleasesStaleAttachmentsAndTheirVeths() throws {
        let config = fx.config(version: "1.1.0")
        let keep = try fx.makePod("gckeep")
        let stale1 = try fx.makePod("gcstale1")
        let stale2 = try fx.makePod("gcstale2")
        for p in [keep, stale1, stale2] { _ = try fx.add(p, config: config) }
        XCTAssertEqual(fx.reservations().count, 3)

        var gc = config
        gc["cni.dev/valid-attachments"] = [["containerID": keep.containerID, "ifname": "eth0"]]
        let r = try fx.run("GC", nil, config: gc)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertEqual(Array(fx.reservations().values), [keep.containerID])
        XCTAssertTrue(fx.hostLinkExists(keep.hostVeth))
        XCTAssertFalse(fx.hostLinkExists(stale1.hostVeth))
        XCTAssertFalse(fx.hostLinkExists(stale2.hostVeth))
        XCTAssertTrue(fx.ping(from: nil, to: CNIFixture.address(try XCTUnwrap(fx.reservations().keys.first.map { ["ips": [["address": $0 + "/32"]]] }))!))

        // A GC with every attachment valid changes nothing; a DEL afterwards is still clean.
        gc["cni.dev/valid-attachments"] = [["containerID": keep.containerID, "ifname": "eth0"]]
        XCTAssertEqual(try fx.run("GC", nil, config: gc).status, 0)
        XCTAssertEqual(fx.reservations().count, 1)
        XCTAssertEqual(try fx.run("DEL", keep, config: config).status, 0)
        XCTAssertEqual(fx.reservations(), [:])
    }
}
