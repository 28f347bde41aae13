import CNI
import Core
import Foundation
import XCTest

/// The calico CNI plugin run as the kubelet runs it (the built calico-node exec'd as `calico`,
/// Debian's host-local as IPAM with usePodCidr from the dev API server's Node), against real
/// network namespaces, for every spec version.
final class CNIPluginTests: CNIFixtureTestCase {
    override class var fixtureTag: String { "cnp" }

    func testLifecycleForEverySpecVersion() throws {
        for version in SpecVersion.allCases.map(\.rawValue) {
            let short = version.replacingOccurrences(of: ".", with: "")
            let a = try fx.makePod("a\(short)")
            let b = try fx.makePod("b\(short)")
            let config = fx.config(version: version)

            let ra = try fx.add(a, config: config)
            let rb = try fx.add(b, config: config)
            XCTAssertEqual(ra["cniVersion"] as? String, version)
            let ip = try XCTUnwrap(ra["ips"] as? [[String: Any]]).first ?? [:]
            // Before 1.0.0 every IP names its family; from 1.0.0 on it must not.
            XCTAssertEqual(ip["version"] as? String, SpecVersion(rawValue: version)! < .v1_0_0 ? "4" : nil, version)
            let addrA = try XCTUnwrap(CNIFixture.address(ra)), addrB = try XCTUnwrap(CNIFixture.address(rb))
            XCTAssertTrue((ip["address"] as? String ?? "").hasSuffix("/32"))
            XCTAssertNotEqual(addrA, addrB)
            let ifaces = try XCTUnwrap(ra["interfaces"] as? [[String: Any]])
            XCTAssertEqual(ifaces.first?["name"] as? String, a.hostVeth)
            XCTAssertEqual(ifaces.first?["mac"] as? String, "ee:ee:ee:ee:ee:ee")

            // The pod side: /32, gateway route, static neighbour, MTU; the host side: route, sysctls.
            let podAddr = try KernelFixture.ip(NetNamespace.named(a.netnsName), ["-4", "addr", "show", "eth0"])
            XCTAssertTrue(podAddr.contains("inet \(addrA)/32"), podAddr)
            XCTAssertTrue(podAddr.contains("mtu 1410"), podAddr)
            let podRoutes = try KernelFixture.ip(NetNamespace.named(a.netnsName), ["-4", "route"])
            XCTAssertTrue(podRoutes.contains("default via 169.254.1.1 dev eth0"), podRoutes)
            XCTAssertTrue(podRoutes.contains("169.254.1.1 dev eth0 scope link"), podRoutes)
            let neigh = try KernelFixture.ip(NetNamespace.named(a.netnsName), ["neigh", "show", "dev", "eth0"])
            XCTAssertTrue(neigh.contains("169.254.1.1 lladdr ee:ee:ee:ee:ee:ee PERMANENT"), neigh)
            XCTAssertTrue(try fx.hostRoutesToPods().contains { $0.hasPrefix("\(addrA) dev \(a.hostVeth) scope link") })
            XCTAssertEqual(try Sysctl.read(SysctlKey.ipv4Conf(a.hostVeth, "proxy_arp")!), "1")
            XCTAssertEqual(try Sysctl.read(SysctlKey.ipv4Neigh(a.hostVeth, "proxy_delay")!), "0")

            XCTAssertTrue(fx.ping(from: nil, to: addrA), "host -> pod \(version)")
            XCTAssertTrue(fx.ping(from: a, to: fx.hostAddress), "pod -> host \(version)")
            XCTAssertTrue(fx.ping(from: a, to: addrB), "pod -> pod \(version)")
            XCTAssertTrue(fx.ping(from: b, to: addrA), "pod -> pod \(version)")

            let ann = try fx.annotations(a)
            XCTAssertEqual(ann[PodAnnotations.podIP], "\(addrA)/32")
            XCTAssertEqual(ann[PodAnnotations.podIPs], "\(addrA)/32")
            XCTAssertEqual(ann[PodAnnotations.containerID], a.containerID)

            if SpecVersion(rawValue: version)!.allowsCheck {
                var check = config
                check["prevResult"] = ra
                let ok = try fx.run("CHECK", a, config: check)
                XCTAssertEqual(ok.status, 0, "CHECK \(version): \(ok.stdout)")
                // CHECK notices a missing host route.
                try KernelFixture.ip(nil, ["route", "del", "\(addrA)/32", "dev", a.hostVeth])
                let bad = try fx.run("CHECK", a, config: check)
                XCTAssertNotEqual(bad.status, 0)
                XCTAssertTrue(bad.stdout.contains("host route"), bad.stdout)
            }

            // DEL twice; the second finds nothing and still succeeds.
            for _ in 0..<2 {
                let d = try fx.run("DEL", a, config: config)
                XCTAssertEqual(d.status, 0, "DEL \(version): \(d.stdout)")
            }
            XCTAssertFalse(fx.hostLinkExists(a.hostVeth))
            XCTAssertEqual(try fx.annotations(a)[PodAnnotations.podIP], "")
            // DEL after the netns is gone (and once more without CNI_NETNS at all).
            try fx.removeNetns(b)
            let db = try fx.run("DEL", b, config: config)
            XCTAssertEqual(db.status, 0, "DEL without netns \(version): \(db.stdout)")
            let db2 = try fx.run("DEL", b, config: config, netns: .some(nil))
            XCTAssertEqual(db2.status, 0, "DEL without CNI_NETNS \(version): \(db2.stdout)")
            XCTAssertTrue(waitUntil { !self.fx.hostLinkExists(b.hostVeth) }, "host veth of a pod whose netns is gone")
            XCTAssertEqual(fx.reservations(), [:], "no address held after DEL \(version)")
            XCTAssertEqual(try fx.hostRoutesToPods(), [], "no host route after DEL \(version)")
        }
    }

    func testVersionAndDualStackWithFixedRanges() throws {
        let out = try fx.run("VERSION", nil, config: nil)
        XCTAssertEqual(out.status, 0)
        XCTAssertEqual(out.json["supportedVersions"] as? [String], ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"])

        let pod = try fx.makePod("dual")
        let v6 = "fd00:\(String(getpid() % 0xffff, radix: 16))::/120"
        let config = fx.config(version: "1.1.0", ipam: [
            "type": "host-local", "dataDir": fx.dataDir,
            "ranges": [[["subnet": "usePodCidr"]], [["subnet": v6]]],
        ])
        let r = try fx.add(pod, config: config)
        let ips = (r["ips"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
        XCTAssertEqual(ips.count, 2, "\(r)")
        XCTAssertTrue(ips.contains { $0.hasSuffix("/128") })
        let routes6 = try KernelFixture.ip(NetNamespace.named(pod.netnsName), ["-6", "route"])
        XCTAssertTrue(routes6.contains("default via fe80::1 dev eth0"), routes6)
        let neigh = try KernelFixture.ip(NetNamespace.named(pod.netnsName), ["-6", "neigh", "show", "dev", "eth0"])
        XCTAssertTrue(neigh.contains("fe80::1 lladdr ee:ee:ee:ee:ee:ee PERMANENT"), neigh)
        let addr6 = String(ips.first { $0.contains(":") }!.split(separator: "/")[0])
        let hostRoute6 = try KernelFixture.ip(nil, ["-6", "route", "show", addr6])
        XCTAssertTrue(hostRoute6.contains("dev \(pod.hostVeth)"), hostRoute6)
        XCTAssertTrue(waitUntil { (try? KernelFixture.run("/usr/bin/ping", ["-6", "-c1", "-W1", addr6])) != nil }, "host -> pod over IPv6")
        XCTAssertEqual(try fx.annotations(pod)[PodAnnotations.podIPs]?.split(separator: ",").count, 2)
        XCTAssertEqual(try fx.run("DEL", pod, config: config).status, 0)
        XCTAssertEqual(fx.reservations(), [:])
        XCTAssertEqual(try KernelFixture.ip(nil, ["-6", "route", "show", addr6]), "")
    }

    /// The kubelet recreates a pod's sandbox: the new ADD replaces the old host veth, and the
    /// old sandbox's late DEL must neither remove the new veth nor blank the new addresses.
    func testLateDelOfAnOldSandboxLeavesTheNewOneAlone() throws {
        let old = try fx.makePod("recreated")
        let config = fx.config(version: "1.0.0")
        _ = try fx.add(old, config: config)
        let new = try fx.newSandbox(of: old)
        let r = try fx.add(new, config: config)
        let addr = try XCTUnwrap(CNIFixture.address(r))
        let alias = try String(contentsOfFile: "/sys/class/net/\(new.hostVeth)/ifalias", encoding: .utf8)
        XCTAssertEqual(alias.trimmingCharacters(in: .whitespacesAndNewlines), "calico-cni:\(new.containerID)")

        XCTAssertEqual(try fx.run("DEL", old, config: config).status, 0)
        XCTAssertTrue(fx.hostLinkExists(new.hostVeth), "the new sandbox's veth survives the old DEL")
        XCTAssertEqual(try fx.annotations(new)[PodAnnotations.podIP], "\(addr)/32")
        XCTAssertEqual(try fx.annotations(new)[PodAnnotations.containerID], new.containerID)
        XCTAssertTrue(fx.ping(from: nil, to: addr))
        XCTAssertEqual(Array(fx.reservations().values), [new.containerID], "the old sandbox's address was released")

        XCTAssertEqual(try fx.run("DEL", new, config: config).status, 0)
        XCTAssertEqual(fx.reservations(), [:])
        XCTAssertFalse(fx.hostLinkExists(new.hostVeth))
    }

    func testFelixOwnsRoutesLeavesTheHostRouteOut() throws {
        let pod = try fx.makePod("felixroutes")
        let config = fx.config(version: "1.0.0", extra: ["felix_owns_routes": true])
        let r = try fx.add(pod, config: config)
        XCTAssertNotNil(CNIFixture.address(r))
        XCTAssertTrue(fx.hostLinkExists(pod.hostVeth))
        XCTAssertEqual(try fx.hostRoutesToPods(), [])
        var check = config
        check["prevResult"] = r
        XCTAssertEqual(try fx.run("CHECK", pod, config: check).status, 0)
        XCTAssertEqual(try fx.run("DEL", pod, config: config).status, 0)
    }

    /// Polls for up to 5 s (a deleted namespace's veth goes away asynchronously).
    func waitUntil(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}
