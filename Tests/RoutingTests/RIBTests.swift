import XCTest
@testable import Routing

/// Best-path selection, multipath, and Adj-RIB-In/Out bookkeeping.
final class RIBTests: XCTestCase {
    let localAS: UInt32 = 64512
    lazy var config = RIBConfig(localAS: localAS, routerID: 0x0A00_0001)

    func ibgp(_ a: String, id: UInt32, client: Bool = false) -> RIBPeer {
        RIBPeer(address: ip(a), asn: localAS, routerID: id, localAddresses: [ip("10.0.0.1"), ip("fd00::1")],
                routeReflectorClient: client)
    }

    func ebgp(_ a: String, asn: UInt32, id: UInt32) -> RIBPeer {
        RIBPeer(address: ip(a), asn: asn, routerID: id, localAddresses: [ip("10.0.0.1"), ip("fd00::1")])
    }

    func announce(_ prefixes: [String], hop: String, path: [UInt32] = [], localPref: UInt32? = nil,
                  med: UInt32? = nil, origin: Origin = .igp) -> UpdateMessage {
        let ps = prefixes.map(prefix)
        var attrs = PathAttributes(origin: origin, asPath: .sequence(path), multiExitDisc: med, localPref: localPref)
        if ps.first?.afi == .ipv6 {
            attrs.mpReach = MPReach(family: .ipv6Unicast, nextHop: ip(hop), nlri: ps)
            return UpdateMessage(attributes: attrs)
        }
        attrs.nextHop = ip(hop)
        return UpdateMessage(attributes: attrs, nlri: ps)
    }

    func testLocalPrefThenPathLengthThenOrigin() {
        var rib = RIB(config: config)
        _ = rib.peerUp(ibgp("10.0.0.2", id: 2))
        _ = rib.peerUp(ibgp("10.0.0.3", id: 3))
        _ = rib.receive(announce(["192.168.1.0/24"], hop: "10.0.0.2", path: [65001], localPref: 100), from: ip("10.0.0.2"))
        let c = rib.receive(announce(["192.168.1.0/24"], hop: "10.0.0.3", path: [65001, 65002], localPref: 200), from: ip("10.0.0.3"))
        XCTAssertEqual(c.locRIB.first?.best?.nextHop, ip("10.0.0.3"), "higher LOCAL_PREF beats a shorter path")
        _ = rib.receive(announce(["192.168.1.0/24"], hop: "10.0.0.3", path: [65001, 65002], localPref: 100), from: ip("10.0.0.3"))
        XCTAssertEqual(rib.locRIB[prefix("192.168.1.0/24")]?.best.nextHop, ip("10.0.0.2"), "shorter AS_PATH")
        _ = rib.receive(announce(["192.168.1.0/24"], hop: "10.0.0.3", path: [65003], origin: .igp), from: ip("10.0.0.3"))
        _ = rib.receive(announce(["192.168.1.0/24"], hop: "10.0.0.2", path: [65001], origin: .incomplete), from: ip("10.0.0.2"))
        XCTAssertEqual(rib.locRIB[prefix("192.168.1.0/24")]?.best.nextHop, ip("10.0.0.3"), "lower ORIGIN")
    }

    func testMEDOnlyWithinSameNeighbourAS() {
        var rib = RIB(config: config)
        for (a, id) in [("10.0.0.2", 2), ("10.0.0.3", 3), ("10.0.0.4", 4)] { _ = rib.peerUp(ibgp(a, id: UInt32(id))) }
        // Same neighbour AS 65001: lower MED wins even against the lower router ID.
        _ = rib.receive(announce(["10.1.0.0/16"], hop: "10.0.0.2", path: [65001], med: 50), from: ip("10.0.0.2"))
        _ = rib.receive(announce(["10.1.0.0/16"], hop: "10.0.0.3", path: [65001], med: 10), from: ip("10.0.0.3"))
        XCTAssertEqual(rib.locRIB[prefix("10.1.0.0/16")]?.best.nextHop, ip("10.0.0.3"))
        // A different neighbour AS with a huge MED is not compared by MED; router ID decides among survivors.
        _ = rib.receive(announce(["10.1.0.0/16"], hop: "10.0.0.4", path: [65009], med: 1000), from: ip("10.0.0.4"))
        let sel = rib.locRIB[prefix("10.1.0.0/16")]!
        XCTAssertEqual(sel.best.nextHop, ip("10.0.0.3"))
        XCTAssertEqual(Set(sel.multipath.compactMap(\.nextHop)), [ip("10.0.0.3"), ip("10.0.0.4")])
    }

    func testEBGPOverIBGPThenRouterIDThenClusterListThenAddress() {
        var rib = RIB(config: config)
        _ = rib.peerUp(ibgp("10.0.0.2", id: 1))
        _ = rib.peerUp(ebgp("10.0.0.9", asn: 65001, id: 9))
        _ = rib.receive(announce(["10.2.0.0/16"], hop: "10.0.0.2", path: [65001]), from: ip("10.0.0.2"))
        _ = rib.receive(announce(["10.2.0.0/16"], hop: "10.0.0.9", path: [65001]), from: ip("10.0.0.9"))
        XCTAssertEqual(rib.locRIB[prefix("10.2.0.0/16")]?.best.peerAddress, ip("10.0.0.9"))
        XCTAssertEqual(rib.locRIB[prefix("10.2.0.0/16")]?.multipath.count, 1, "eBGP and iBGP do not share multipath")

        let a = Route(prefix: prefix("10.3.0.0/16"), source: .peer(ip("10.0.0.5")),
                      attributes: PathAttributes(origin: .igp, asPath: ASPath(), nextHop: ip("10.0.0.5"), originatorID: 7), peerRouterID: 1)
        let b = Route(prefix: prefix("10.3.0.0/16"), source: .peer(ip("10.0.0.6")),
                      attributes: PathAttributes(origin: .igp, asPath: ASPath(), nextHop: ip("10.0.0.6")), peerRouterID: 5)
        XCTAssertEqual(BestPath.select([a, b], config: config)?.best, b, "ORIGINATOR_ID stands in for the router ID")
        var c = b; c.source = .peer(ip("10.0.0.4")); c.attributes.clusterList = [1]; c.attributes.nextHop = ip("10.0.0.4")
        XCTAssertEqual(BestPath.select([c, b], config: config)?.best, b, "shorter CLUSTER_LIST")
        var d = b; d.source = .peer(ip("10.0.0.3")); d.attributes.nextHop = ip("10.0.0.3")
        XCTAssertEqual(BestPath.select([b, d], config: config)?.best, d, "lowest peer address")
        XCTAssertEqual(BestPath.select([b, d], config: config)?.multipath.count, 2)
    }

    func testWithdrawAndTreatAsWithdrawAndLoops() {
        var rib = RIB(config: config)
        _ = rib.peerUp(ebgp("10.0.0.9", asn: 65001, id: 9))
        var c = rib.receive(announce(["10.4.0.0/16", "10.5.0.0/16"], hop: "10.0.0.9", path: [65001]), from: ip("10.0.0.9"))
        XCTAssertEqual(c.locRIB.map(\.prefix), [prefix("10.4.0.0/16"), prefix("10.5.0.0/16")])
        c = rib.receive(UpdateMessage(withdrawn: [prefix("10.4.0.0/16")]), from: ip("10.0.0.9"))
        XCTAssertEqual(c.locRIB, [LocRIBChange(prefix: prefix("10.4.0.0/16"), best: nil, multipath: [])])
        var bad = announce(["10.5.0.0/16"], hop: "10.0.0.9", path: [65001])
        bad.problems = [AttributeProblem(action: .treatAsWithdraw, notification: NotificationMessage(.updateMessage(.malformedASPath)))]
        c = rib.receive(bad, from: ip("10.0.0.9"))
        XCTAssertNil(c.locRIB.first?.best)
        c = rib.receive(announce(["10.6.0.0/16"], hop: "10.0.0.9", path: [65001, localAS]), from: ip("10.0.0.9"))
        XCTAssertTrue(c.locRIB.isEmpty, "a path through our own AS is a loop")
        XCTAssertEqual(rib.receivedCount(ip("10.0.0.9")), 0)
    }

    func testIPv6NextHopFromMPReach() {
        var rib = RIB(config: config)
        _ = rib.peerUp(ebgp("10.0.0.9", asn: 65001, id: 9))
        let c = rib.receive(announce(["fd10::/64"], hop: "fd00::9", path: [65001]), from: ip("10.0.0.9"))
        XCTAssertEqual(c.locRIB.first?.best?.nextHop, ip("fd00::9"))
        XCTAssertEqual(c.locRIB.first?.nextHops, [ip("fd00::9")])
    }

    func testGracefulRestartStaleRoutes() {
        var rib = RIB(config: config)
        _ = rib.peerUp(ibgp("10.0.0.2", id: 2))
        _ = rib.receive(announce(["10.7.0.0/16", "10.8.0.0/16"], hop: "10.0.0.2"), from: ip("10.0.0.2"))
        var c = rib.peerDown(ip("10.0.0.2"), retainFamilies: [.ipv4Unicast])
        XCTAssertEqual(rib.locRIB[prefix("10.7.0.0/16")]?.best.stale, true, "kept, marked stale")
        XCTAssertTrue(c.locRIB.allSatisfy { $0.best != nil })
        _ = rib.peerUp(ibgp("10.0.0.2", id: 2))
        _ = rib.receive(announce(["10.7.0.0/16"], hop: "10.0.0.2"), from: ip("10.0.0.2"))
        XCTAssertEqual(rib.locRIB[prefix("10.7.0.0/16")]?.best.stale, false)
        c = rib.purgeStale(ip("10.0.0.2"), family: .ipv4Unicast)
        XCTAssertEqual(c.locRIB.map(\.prefix), [prefix("10.8.0.0/16")])
        XCTAssertNil(rib.locRIB[prefix("10.8.0.0/16")])
        XCTAssertNotNil(rib.locRIB[prefix("10.7.0.0/16")])
        c = rib.peerDown(ip("10.0.0.2"))
        XCTAssertNil(rib.locRIB[prefix("10.7.0.0/16")], "without graceful restart the routes go at once")
    }
}
