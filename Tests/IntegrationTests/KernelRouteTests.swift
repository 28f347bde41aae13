import Core
import Foundation
import XCTest

/// Addresses, routes and neighbours against the real kernel, checked with `ip -j`.
final class KernelRouteTests: XCTestCase {
    /// The Calico pod side: /32 address, 169.254.1.1 scope link, default via it, static ARP entry.
    func testPodSidePlumbing() throws {
        try KernelFixture.withNamespaces(2) { spaces in
            let (hostNS, podNS) = (spaces[0], spaces[1])
            try Netlink(in: hostNS).createVeth(name: "calipod0", peerName: "eth0", peerNamespace: podNS, mac: .calicoHostVeth)
            let pod = try Netlink(in: podNS)
            try pod.setUp("eth0")
            try pod.addAddress(InetPrefix("10.65.0.5/32")!, link: "eth0")
            try pod.addAddress(InetPrefix("fd00:65::5/128")!, link: "eth0", noDAD: true)
            let eth0 = try pod.linkIndex("eth0")
            let gateway = InetAddress("169.254.1.1")!
            try pod.addRoute(.onLink(.host(gateway), linkIndex: eth0, proto: .boot))
            try pod.addRoute(KernelRoute(destination: .defaultRoute(.ipv4), nextHops: [NextHop(gateway: gateway, linkIndex: eth0)]))
            try pod.setPermanentNeighbour(gateway, mac: .calicoHostVeth, link: "eth0")

            let addrs = try KernelFixture.ipJSON(podNS, ["addr", "show", "eth0"]).first?.objects("addr_info") ?? []
            let global = addrs.filter { $0.string("scope") == "global" }.map { "\($0.string("local")!)/\($0.int("prefixlen")!)" }
            XCTAssertEqual(global.sorted(), ["10.65.0.5/32", "fd00:65::5/128"])
            let ours = try pod.addresses(linkIndex: eth0).filter { $0.scope == .universe }.map(\.prefix.description)
            XCTAssertEqual(ours.sorted(), ["10.65.0.5/32", "fd00:65::5/128"])
            XCTAssertEqual(try pod.addresses(family: .ipv4).map(\.prefix), [InetPrefix("10.65.0.5/32")!])

            let routes = try KernelFixture.ipJSON(podNS, ["-4", "route", "show"])
            XCTAssertEqual(routes.count, 2, "\(routes)")
            let def = try XCTUnwrap(routes.first { $0.string("dst") == "default" })
            XCTAssertEqual(def.string("gateway"), "169.254.1.1")
            XCTAssertEqual(def.string("dev"), "eth0")
            let link = try XCTUnwrap(routes.first { $0.string("dst") == "169.254.1.1" })
            XCTAssertEqual(link.string("scope"), "link")
            XCTAssertNil(link.string("gateway"))

            let neigh = try KernelFixture.ipJSON(podNS, ["neigh", "show", "dev", "eth0"])
            XCTAssertEqual(neigh.count, 1)
            XCTAssertEqual(neigh.first?.string("dst"), "169.254.1.1")
            XCTAssertEqual(neigh.first?.string("lladdr"), "ee:ee:ee:ee:ee:ee")
            XCTAssertEqual(neigh.first?.strings("state"), ["PERMANENT"])
            XCTAssertEqual(try pod.neighbours(linkIndex: eth0).filter(\.isPermanent).map(\.address), [gateway])

            try pod.deleteNeighbour(gateway, link: "eth0")
            try pod.deleteAddress(InetPrefix("10.65.0.5/32")!, link: "eth0")
            XCTAssertEqual(try KernelFixture.ipJSON(podNS, ["neigh", "show", "dev", "eth0"]).count, 0)
            XCTAssertEqual(try KernelFixture.ipJSON(podNS, ["-4", "addr", "show", "eth0"]).first?.objects("addr_info").count ?? 0, 0)
        }
    }

    /// Calico's IPv6 pod side: /128 and a default route via the host veth's link-local address.
    func testIPv6DefaultViaLinkLocalGateway() throws {
        try KernelFixture.withNamespaces(2) { spaces in
            try Netlink(in: spaces[0]).createVeth(name: "calisix0", peerName: "eth0", peerNamespace: spaces[1], mac: .calicoHostVeth)
            let pod = try Netlink(in: spaces[1])
            try pod.setUp("eth0")
            try pod.addAddress(InetPrefix("fd00:65::7/128")!, link: "eth0", noDAD: true)
            let gw = InetAddress("fe80::ecee:eeff:feee:eeee")!
            try pod.addRoute(KernelRoute(destination: .defaultRoute(.ipv6), nextHops: [NextHop(gateway: gw, linkIndex: try pod.linkIndex("eth0"))]))
            let def = try XCTUnwrap(try KernelFixture.ipJSON(spaces[1], ["-6", "route", "show", "default"]).first)
            XCTAssertEqual(def.string("gateway"), "fe80::ecee:eeff:feee:eeee")
            XCTAssertEqual(def.string("dev"), "eth0")
            XCTAssertEqual(def.int("metric"), 1024)
            let listed = try pod.routes(family: .ipv6).filter { $0.destination.length == 0 }
            XCTAssertEqual(listed.first?.nextHops.first?.gateway, gw)
        }
    }

    /// ECMP, weights, blackhole, a custom table, replace, and proof that the protocol filter never
    /// lets us list or delete a route we did not install.
    func testECMPBlackholeAndProtocolOwnership() throws {
        try KernelFixture.withNamespaces(1) { spaces in
            let ns = spaces[0]
            let nl = try Netlink(in: ns)
            let dev = try KernelFixture.upPair(nl, "ktr0", "ktr1", addresses: ["10.1.0.1/24", "fd01::1/64"])
            func hop(_ a: String, _ w: Int = 1) -> NextHop { NextHop(gateway: InetAddress(a)!, linkIndex: dev, weight: w) }

            let ecmp = KernelRoute(destination: InetPrefix("10.50.0.0/16")!, nextHops: [hop("10.1.0.2"), hop("10.1.0.3", 3)], proto: .calicoBGP)
            let ecmp6 = KernelRoute(destination: InetPrefix("fd50::/48")!, nextHops: [hop("fd01::2"), hop("fd01::3")], proto: .calicoBGP)
            let hole = KernelRoute.blackhole(InetPrefix("10.66.0.0/26")!, proto: .calicoBGP)
            let inTable = KernelRoute(destination: InetPrefix("10.77.0.0/16")!, nextHops: [hop("10.1.0.2")], table: 100, proto: .calicoBGP)
            for r in [ecmp, ecmp6, hole, inTable] { try nl.addRoute(r) }
            // Someone else's routes: one with the very destination of ours in another metric, one apart.
            try KernelFixture.ip(ns, ["route", "add", "10.50.0.0/16", "via", "10.1.0.2", "metric", "50"])
            try KernelFixture.ip(ns, ["route", "add", "10.70.0.0/16", "via", "10.1.0.3", "proto", "static"])

            let shown = try KernelFixture.ipJSON(ns, ["route", "show", "10.50.0.0/16", "proto", "80"])
            XCTAssertEqual(shown.count, 1)
            let hops = shown.first?.objects("nexthops") ?? []
            XCTAssertEqual(hops.compactMap { $0.string("gateway") }, ["10.1.0.2", "10.1.0.3"])
            XCTAssertEqual(hops.compactMap { $0.int("weight") }, [1, 3])
            let shown6 = try KernelFixture.ipJSON(ns, ["-6", "route", "show", "fd50::/48"])
            XCTAssertEqual(shown6.first?.objects("nexthops").compactMap { $0.string("gateway") }, ["fd01::2", "fd01::3"])
            let blackhole = try KernelFixture.ipJSON(ns, ["route", "show", "10.66.0.0/26"])
            XCTAssertEqual(blackhole.first?.string("type"), "blackhole")
            XCTAssertEqual(blackhole.first?.string("protocol"), "80")
            XCTAssertEqual(try KernelFixture.ipJSON(ns, ["route", "show", "table", "100"]).first?.string("dst"), "10.77.0.0/16")

            // Reading back gives what we asked for.
            let mine = try nl.listRoutes(proto: .calicoBGP)
            XCTAssertEqual(Set(mine.map(\.destination.description)), ["10.50.0.0/16", "fd50::/48", "10.66.0.0/26"])
            XCTAssertEqual(mine.first { $0.destination == ecmp.destination }?.nextHops, ecmp.nextHops)
            XCTAssertEqual(mine.first { $0.destination == hole.destination }?.type, .blackhole)
            XCTAssertEqual(try nl.listRoutes(proto: .calicoBGP, table: 100).map(\.destination), [inTable.destination])

            // Adding again is "exists"; replace swaps the next hops.
            XCTAssertThrowsError(try nl.addRoute(ecmp)) { XCTAssertTrue(($0 as? KernelError)?.isAlreadyExists == true, "\($0)") }
            var moved = ecmp
            moved.nextHops = [hop("10.1.0.4")]
            try nl.replaceRoute(moved)
            XCTAssertEqual(try KernelFixture.ipJSON(ns, ["route", "show", "10.50.0.0/16", "proto", "80"]).first?.string("gateway"), "10.1.0.4")

            // Deleting with our protocol never hits a foreign route, even at the same destination.
            XCTAssertThrowsError(try nl.deleteRoute(KernelRoute(destination: InetPrefix("10.70.0.0/16")!, proto: .calicoBGP))) {
                XCTAssertTrue(($0 as? KernelError)?.isNotFound == true, "\($0)")
            }
            for r in try nl.routes(family: nil, table: nil, proto: .calicoBGP) { try nl.deleteRoute(r) }
            XCTAssertEqual(try nl.routes(table: nil, proto: .calicoBGP), [])
            let left = try KernelFixture.ipJSON(ns, ["-4", "route", "show"]).map { "\($0.string("dst")!) \($0.string("protocol") ?? "boot")" }
            XCTAssertEqual(left.sorted(), ["10.1.0.0/24 kernel", "10.50.0.0/16 boot", "10.70.0.0/16 static"])
            XCTAssertEqual(try KernelFixture.ipJSON(ns, ["-6", "route", "show", "fd50::/48"]).count, 0)
        }
    }

    func testBadRoutesAreRefusedWithTypedErrors() throws {
        try KernelFixture.withNamespaces(1) { spaces in
            let nl = try Netlink(in: spaces[0])
            let v4 = InetPrefix("10.9.0.0/16")!
            XCTAssertThrowsError(try nl.addRoute(KernelRoute(destination: v4, nextHops: [NextHop(gateway: InetAddress("fd00::1"))]))) {
                XCTAssertEqual(($0 as? KernelError)?.source, .invalidArgument)
            }
            XCTAssertThrowsError(try nl.addRoute(KernelRoute(destination: v4, nextHops: [NextHop(linkIndex: 1, weight: 0)]))) {
                XCTAssertEqual(($0 as? KernelError)?.source, .invalidArgument)
            }
            // A gateway that is not reachable: the kernel's own error, with what we tried.
            XCTAssertThrowsError(try nl.addRoute(KernelRoute(destination: v4, nextHops: [NextHop(gateway: InetAddress("192.0.2.1"))]))) {
                let e = $0 as? KernelError
                XCTAssertNotNil(e)
                XCTAssertTrue(e?.description.hasPrefix("add route 10.9.0.0/16 table 254: ") == true, "\(String(describing: e))")
            }
        }
    }
}
