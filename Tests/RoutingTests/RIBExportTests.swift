import XCTest
@testable import Routing

/// Adj-RIB-Out: split horizon, route reflection, eBGP rewriting, next-hop-self, packing.
final class RIBExportTests: XCTestCase {
    let localAS: UInt32 = 64512
    let me = [ip("10.0.0.1"), ip("fd00::1")]

    func peer(_ a: String, asn: UInt32? = nil, id: UInt32, client: Bool = false) -> RIBPeer {
        RIBPeer(address: ip(a), asn: asn ?? localAS, routerID: id, localAddresses: me, routeReflectorClient: client)
    }

    func learned(_ p: String, hop: String, path: [UInt32] = []) -> UpdateMessage {
        UpdateMessage(attributes: PathAttributes(origin: .igp, asPath: .sequence(path), nextHop: ip(hop), multiExitDisc: 5),
                      nlri: [prefix(p)])
    }

    func testLocalRoutesGoEverywhereWithNextHopSelf() {
        var rib = RIB(config: RIBConfig(localAS: localAS, routerID: 1))
        _ = rib.peerUp(peer("10.0.0.2", id: 2))
        _ = rib.peerUp(peer("10.0.0.9", asn: 65001, id: 9))
        let c = rib.originate(prefix("192.168.10.0/26"))
        let toIBGP = c.outbound[ip("10.0.0.2")]!.announce.first!
        XCTAssertEqual(toIBGP.key.attributes.nextHop, ip("10.0.0.1"))
        XCTAssertEqual(toIBGP.key.attributes.asPath, ASPath())
        XCTAssertEqual(toIBGP.key.attributes.localPref, 100)
        let toEBGP = c.outbound[ip("10.0.0.9")]!.announce.first!
        XCTAssertEqual(toEBGP.key.attributes.asPath, .sequence([localAS]))
        XCTAssertNil(toEBGP.key.attributes.localPref)
        XCTAssertEqual(c.locRIB.first?.best?.source, .local)
        let w = rib.withdrawLocal(prefix("192.168.10.0/26"))
        XCTAssertEqual(w.outbound[ip("10.0.0.2")]?.withdraw[.ipv4Unicast], [prefix("192.168.10.0/26")])
        XCTAssertEqual(rib.advertisedCount(ip("10.0.0.9")), 0)
    }

    func testIBGPSplitHorizonWithoutReflection() {
        var rib = RIB(config: RIBConfig(localAS: localAS, routerID: 1))
        _ = rib.peerUp(peer("10.0.0.2", id: 2))
        _ = rib.peerUp(peer("10.0.0.3", id: 3))
        _ = rib.peerUp(peer("10.0.0.9", asn: 65001, id: 9))
        let c = rib.receive(learned("10.20.0.0/16", hop: "10.0.0.2"), from: ip("10.0.0.2"))
        XCTAssertNil(c.outbound[ip("10.0.0.3")], "iBGP-learned is not sent to another iBGP peer")
        XCTAssertNil(c.outbound[ip("10.0.0.2")], "nor back to its source")
        let e = c.outbound[ip("10.0.0.9")]!.announce.first!.key.attributes
        XCTAssertEqual(e.nextHop, ip("10.0.0.1"))
        XCTAssertEqual(e.asPath, .sequence([localAS]))
        // eBGP-learned routes do go to iBGP peers, next hop unchanged, MED stripped toward other ASes.
        let d = rib.receive(learned("10.30.0.0/16", hop: "10.0.0.9", path: [65001]), from: ip("10.0.0.9"))
        XCTAssertEqual(d.outbound[ip("10.0.0.3")]!.announce.first!.key.attributes.nextHop, ip("10.0.0.9"))
        XCTAssertNil(d.outbound[ip("10.0.0.9")], "never back to the eBGP source")
    }

    func testRouteReflection() {
        var rib = RIB(config: RIBConfig(localAS: localAS, routerID: 1, clusterID: 0xC0A8_0001))
        _ = rib.peerUp(peer("10.0.0.2", id: 2, client: true))
        _ = rib.peerUp(peer("10.0.0.3", id: 3, client: true))
        _ = rib.peerUp(peer("10.0.0.4", id: 4)) // non-client
        let fromClient = rib.receive(learned("10.40.0.0/16", hop: "10.0.0.2"), from: ip("10.0.0.2"))
        let reflected = fromClient.outbound[ip("10.0.0.3")]!.announce.first!.key.attributes
        XCTAssertEqual(reflected.originatorID, 2)
        XCTAssertEqual(reflected.clusterList, [0xC0A8_0001])
        XCTAssertEqual(reflected.nextHop, ip("10.0.0.2"), "reflection keeps the next hop")
        XCTAssertNotNil(fromClient.outbound[ip("10.0.0.4")], "client routes go to non-clients too")
        let fromNonClient = rib.receive(learned("10.50.0.0/16", hop: "10.0.0.4"), from: ip("10.0.0.4"))
        XCTAssertNotNil(fromNonClient.outbound[ip("10.0.0.2")])
        XCTAssertNil(fromNonClient.outbound[ip("10.0.0.4")])
        // A route carrying our cluster ID has looped.
        var looped = learned("10.60.0.0/16", hop: "10.0.0.4")
        looped.attributes.clusterList = [7, 0xC0A8_0001]
        XCTAssertTrue(rib.receive(looped, from: ip("10.0.0.4")).isEmpty)
        var ours = learned("10.61.0.0/16", hop: "10.0.0.4")
        ours.attributes.originatorID = 1
        XCTAssertTrue(rib.receive(ours, from: ip("10.0.0.4")).isEmpty)
    }

    func testInitialSyncAndPackingForIPv6() {
        var rib = RIB(config: RIBConfig(localAS: localAS, routerID: 1))
        for i in 0..<600 { _ = rib.originate(IPPrefix(address: .v6(0xFD10_0000_0000_0000 | UInt64(i) << 16, 0), length: 64)!) }
        _ = rib.originate(prefix("192.168.0.0/26"))
        let c = rib.peerUp(peer("10.0.0.9", asn: 65001, id: 9))
        let out = c.outbound[ip("10.0.0.9")]!
        XCTAssertEqual(out.announcedCount, 601)
        let updates = out.updates(context: WireContext())
        XCTAssertGreaterThan(updates.count, 2, "600 IPv6 /64s do not fit one 4096-octet UPDATE")
        var seen = 0
        for u in updates {
            let bytes = BGPMessage.update(u).encode()
            XCTAssertLessThanOrEqual(bytes.count, 4096)
            guard case .update(let back) = try! BGPMessage.decode(bytes) else { return XCTFail() }
            if let mp = back.attributes.mpReach { XCTAssertEqual(mp.nextHop, ip("fd00::1")); seen += mp.nlri.count }
            seen += back.nlri.count
        }
        XCTAssertEqual(seen, 601)
        // A peer without IPv6 negotiated gets only the IPv4 route.
        var v4only = peer("10.0.0.8", asn: 65002, id: 8)
        v4only.families = [.ipv4Unicast]
        XCTAssertEqual(rib.peerUp(v4only).outbound[ip("10.0.0.8")]?.announcedCount, 1)
    }
}
