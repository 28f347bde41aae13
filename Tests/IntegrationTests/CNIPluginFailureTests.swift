import CNI
import Core
import Foundation
import XCTest

/// Bad input and failures: each gets its exact code, and afterwards no address is held (no
/// host-local reservation file) and no link is left.
final class CNIPluginFailureTests: CNIFixtureTestCase {
    override class var fixtureTag: String { "cnf" }

    private func assertNothingHeld(_ pod: CNIFixture.PodRef, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(fx.reservations(), [:], "addresses held", file: file, line: line)
        XCTAssertFalse(fx.hostLinkExists(pod.hostVeth), "host veth left", file: file, line: line)
        let links = try KernelFixture.ip(NetNamespace.named(pod.netnsName), ["-o", "link"])
        XCTAssertFalse(links.contains("eth0"), "pod interface left: \(links)", file: file, line: line)
        XCTAssertEqual(try fx.hostRoutesToPods(), [], file: file, line: line)
    }

    private func writeScript(_ name: String, _ body: String) throws {
        let path = fx.binDir + "/" + name
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    func testMalformedJSONIsCode6() throws {
        let pod = try fx.makePod("badjson")
        let r = try fx.run("ADD", pod, config: nil, rawStdin: "{\"cniVersion\": \"1.0.0\", ")
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.code, 6, r.stdout)
        try assertNothingHeld(pod)
    }

    func testUnknownVersionIsCode1() throws {
        let pod = try fx.makePod("badversion")
        let r = try fx.run("ADD", pod, config: fx.config(version: "9.9.9"))
        XCTAssertEqual(r.code, 1, r.stdout)
        XCTAssertTrue((r.json["msg"] as? String ?? "").contains("9.9.9"))
        try assertNothingHeld(pod)
    }

    func testMissingNetnsOnAddIsCode4() throws {
        let pod = try fx.makePod("nonetns")
        let r = try fx.run("ADD", pod, config: fx.config(version: "1.0.0"), netns: .some(nil))
        XCTAssertEqual(r.code, 4, r.stdout)
        XCTAssertTrue((r.json["msg"] as? String ?? "").contains("CNI_NETNS"), r.stdout)
        // A CNI_NETNS that does not exist is the runtime's error too.
        let gone = try fx.run("ADD", pod, config: fx.config(version: "1.0.0"), netns: .some("/var/run/netns/\(fx.tag)-missing"))
        XCTAssertEqual(gone.code, 4, gone.stdout)
        try assertNothingHeld(pod)
    }

    func testExistingInterfaceIsRefusedBeforeIPAM() throws {
        let pod = try fx.makePod("exists")
        let ns = NetNamespace.named(pod.netnsName)
        try KernelFixture.ip(ns, ["link", "add", "eth0", "type", "veth", "peer", "name", "other0"])
        let r = try fx.run("ADD", pod, config: fx.config(version: "1.0.0"))
        XCTAssertEqual(r.code, ErrorCode.interfaceExists.rawValue, r.stdout)
        XCTAssertEqual(fx.reservations(), [:])
        XCTAssertFalse(fx.hostLinkExists(pod.hostVeth))
        // The interface that was there is untouched.
        XCTAssertTrue(try KernelFixture.ip(ns, ["-o", "link"]).contains("other0"))
    }

    func testFailingIPAMPluginIsRelayed() throws {
        let pod = try fx.makePod("ipamfail")
        try writeScript("fake-ipam-busy", "echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"fake IPAM: datastore busy\"}'; exit 1")
        let r = try fx.run("ADD", pod, config: fx.config(version: "1.0.0", ipam: ["type": "fake-ipam-busy"]))
        XCTAssertEqual(r.code, 11, r.stdout)
        XCTAssertEqual(r.json["msg"] as? String, "fake IPAM: datastore busy")
        try assertNothingHeld(pod)

        // A plugin that dies without a CNI error: 102, with its exit status and stderr passed through.
        try writeScript("fake-ipam-crash", "echo 'fake ipam dying' >&2; exit 3")
        let c = try fx.run("ADD", pod, config: fx.config(version: "1.0.0", ipam: ["type": "fake-ipam-crash"]))
        XCTAssertEqual(c.code, ErrorCode.ipamFailure.rawValue, c.stdout)
        XCTAssertTrue((c.json["msg"] as? String ?? "").contains("status 3"), c.stdout)
        XCTAssertTrue(c.stderr.contains("fake ipam dying"), c.stderr)
        try assertNothingHeld(pod)

        // An IPAM type that is not on CNI_PATH: 7, naming it.
        let m = try fx.run("ADD", pod, config: fx.config(version: "1.0.0", ipam: ["type": "no-such-ipam"]))
        XCTAssertEqual(m.code, 7, m.stdout)
        XCTAssertTrue((m.json["msg"] as? String ?? "").contains("no-such-ipam"), m.stdout)
        try assertNothingHeld(pod)
    }

    func testExhaustedRangeIsCode11AndLeaksNothing() throws {
        let first = try fx.makePod("exfirst")
        let second = try fx.makePod("exsecond")
        let one = fx.podCIDR.replacingOccurrences(of: ".0/24", with: ".10")
        let config = fx.config(version: "1.0.0", ipam: [
            "type": "host-local", "subnet": "usePodCidr", "rangeStart": one, "rangeEnd": one, "dataDir": fx.dataDir,
        ])
        _ = try fx.add(first, config: config)
        XCTAssertEqual(Array(fx.reservations().keys), [one])
        let r = try fx.run("ADD", second, config: config)
        XCTAssertEqual(r.code, 11, r.stdout)
        XCTAssertTrue((r.json["msg"] as? String ?? "").contains("no IP addresses available"), r.stdout)
        XCTAssertEqual(fx.reservations(), [one: first.containerID], "only the first pod holds an address")
        XCTAssertFalse(fx.hostLinkExists(second.hostVeth))
        XCTAssertEqual(try fx.run("DEL", first, config: config).status, 0)
        try assertNothingHeld(first)
    }

    func testFailureAfterIPAMReleasesTheAddressAndRemovesTheVeth() throws {
        // No Pod object: the annotation patch (the last step of ADD) fails after IPAM and netlink.
        let pod = try fx.makePod("noobject", createObject: false)
        let r = try fx.run("ADD", pod, config: fx.config(version: "1.0.0"))
        XCTAssertEqual(r.code, ErrorCode.datastoreFailure.rawValue, r.stdout)
        XCTAssertTrue((r.json["msg"] as? String ?? "").contains("annotate Pod default/noobject"), r.stdout)
        try assertNothingHeld(pod)
    }

    func testUsePodCidrWithoutANodeIsCode101AndHoldsNothing() throws {
        let pod = try fx.makePod("nonode")
        var config = fx.config(version: "1.0.0")
        config["nodename"] = "\(fx.tag)-no-such-node"
        let r = try fx.run("ADD", pod, config: config)
        XCTAssertEqual(r.code, ErrorCode.datastoreFailure.rawValue, r.stdout)
        XCTAssertTrue((r.json["msg"] as? String ?? "").contains("usePodCidr"), r.stdout)
        try assertNothingHeld(pod)
    }
}
