import Core
import XCTest
@testable import Routing

/// The compact storage under the RIB and the kernel state: the open-addressing prefix table
/// against a Dictionary, and the RIB's paths, selections, stale marks and kernel feed on it.
final class CompactRIBTableTests: XCTestCase {
    let localAS: UInt32 = 64512
    lazy var config = RIBConfig(localAS: localAS, routerID: 0x0A00_0001)

    func ibgp(_ a: String, id: UInt32) -> RIBPeer {
        RIBPeer(address: ip(a), asn: localAS, routerID: id, localAddresses: [ip("10.0.0.1"), ip("fd00::1")])
    }

    func announce(_ prefixes: [IPPrefix], hop: String, path: [UInt32] = [65001], med: UInt32? = nil) -> UpdateMessage {
        var attrs = PathAttributes(origin: .igp, asPath: .sequence(path), multiExitDisc: med)
        if prefixes.first?.afi == .ipv6 {
            attrs.mpReach = MPReach(family: .ipv6Unicast, nextHop: ip(hop), nlri: prefixes)
            return UpdateMessage(attributes: attrs)
        }
        attrs.nextHop = ip(hop)
        return UpdateMessage(attributes: attrs, nlri: prefixes)
    }

    /// Random inserts, replacements and removals (with rehashes and backward shifts) agree
    /// with a Dictionary at every step's end, for both key layouts.
    func testTableMatchesDictionaryUnderRandomOperations() {
        var rng = FuzzTests.SeededGenerator(seed: 42)
        var v4 = CompactPrefixTable<PackedV4, UInt32>(placeholder: 0)
        var v6 = CompactPrefixTable<PackedV6, UInt32>(placeholder: 0)
        var ref4: [PackedV4: UInt32] = [:], ref6: [PackedV6: UInt32] = [:]
        for round in 0..<40_000 {
            // A small key space so that replacements and removals of present keys are frequent.
            let a = UInt32.random(in: 0..<3000, using: &rng) << 8
            let p4 = PackedV4(IPPrefix(address: .v4(a), length: 24)!)
            let p6 = PackedV6(IPPrefix(address: .v6(UInt64(a) << 32, 0), length: 64)!)
            let value = UInt32(round + 1)
            if Bool.random(using: &rng) || Bool.random(using: &rng) {
                v4[p4] = value; ref4[p4] = value
                v6[p6] = value; ref6[p6] = value
            } else {
                v4[p4] = nil; ref4[p4] = nil
                v6[p6] = nil; ref6[p6] = nil
            }
        }
        XCTAssertEqual(v4.count, ref4.count)
        XCTAssertEqual(v6.count, ref6.count)
        for (k, v) in ref4 { XCTAssertEqual(v4[k], v) }
        for (k, v) in ref6 { XCTAssertEqual(v6[k], v) }
        var seen = 0
        v4.forEach { k, v in seen += 1; XCTAssertEqual(ref4[k], v) }
        XCTAssertEqual(seen, ref4.count)
        XCTAssertLessThanOrEqual(Double(v4.count), Double(v4.capacity) * 0.8, "load stays at most 0.8")
        // Emptied, the table gives its arrays back.
        for k in ref4.keys { v4[k] = nil }
        XCTAssertEqual(v4.capacity, 0)
        XCTAssertEqual(PackedV6(prefix("fd00:1::/64")).prefix, prefix("fd00:1::/64"))
        XCTAssertEqual(PackedV4(prefix("10.1.2.0/24")).prefix, prefix("10.1.2.0/24"))
    }

    func testInsertReplaceWithdrawAcrossRehashIPv4AndIPv6() {
        var rib = RIB(config: config, trackKernel: true)
        _ = rib.peerUp(ibgp("10.0.0.2", id: 2))
        let v4 = (0..<5000).map { IPPrefix(address: .v4(0x0B00_0000 + UInt32($0) << 8), length: 24)! }
        let v6 = (0..<5000).map { IPPrefix(address: .v6(0xFD10_0000_0000_0000 + UInt64($0) << 16, 0), length: 48)! }
        for chunk in stride(from: 0, to: 5000, by: 500) {
            _ = rib.receive(announce(Array(v4[chunk..<chunk + 500]), hop: "10.0.0.2"), from: ip("10.0.0.2"))
            _ = rib.receive(announce(Array(v6[chunk..<chunk + 500]), hop: "fd00::2"), from: ip("10.0.0.2"))
        }
        XCTAssertEqual(rib.locRIBCount, 10_000)
        XCTAssertEqual(rib.receivedCount(ip("10.0.0.2")), 10_000)
        XCTAssertEqual(rib.table.store.count, 2, "one interned path per next hop")
        // Replace: a new next hop for some; their old shared path stays for the others.
        let c = rib.receive(announce(Array(v4[0..<10]), hop: "10.0.0.22"), from: ip("10.0.0.2"))
        XCTAssertEqual(c.locRIB.count, 10)
        XCTAssertEqual(rib.locRIB[v4[3]]?.best.nextHop, ip("10.0.0.22"))
        XCTAssertEqual(rib.locRIB[v4[30]]?.best.nextHop, ip("10.0.0.2"))
        XCTAssertEqual(rib.table.store.count, 3)
        // Withdraw half of each family.
        _ = rib.receive(UpdateMessage(withdrawn: Array(v4[0..<2500])), from: ip("10.0.0.2"))
        var w6 = PathAttributes()
        w6.mpUnreach = MPUnreach(family: .ipv6Unicast, withdrawn: Array(v6[0..<2500]))
        _ = rib.receive(UpdateMessage(attributes: w6), from: ip("10.0.0.2"))
        XCTAssertEqual(rib.locRIBCount, 5000)
        XCTAssertNil(rib.locRIB[v4[0]])
        XCTAssertEqual(rib.locRIB[v6[4999]]?.best.nextHop, ip("fd00::2"))
        XCTAssertEqual(rib.table.store.count, 2, "the replaced path's id was freed with its last prefix")
        for p in v4[2500...] { XCTAssertNotNil(rib.table.slots[p], "\(p) still found after backward shifts") }
    }

    func testECMPAndStaleOnMultiPathSlots() {
        var rib = RIB(config: config, trackKernel: true)
        _ = rib.peerUp(ibgp("10.0.0.2", id: 2))
        _ = rib.peerUp(ibgp("10.0.0.3", id: 3))
        for p in [prefix("10.9.0.0/16"), prefix("fd09::/64")] {
            let (h2, h3) = p.afi == .ipv4 ? ("10.0.0.2", "10.0.0.3") : ("fd00::2", "fd00::3")
            _ = rib.receive(announce([p], hop: h2), from: ip("10.0.0.2"))
            let c = rib.receive(announce([p], hop: h3), from: ip("10.0.0.3"))
            XCTAssertEqual(c.locRIB.first?.nextHops, [ip(h2), ip(h3)], "equal paths: both next hops, lower router ID first")
            XCTAssertEqual(rib.locRIB[p]?.multipath.count, 2)
            // A higher MED from the same neighbour AS drops 10.0.0.3 out of the set.
            _ = rib.receive(announce([p], hop: h3, med: 50), from: ip("10.0.0.3"))
            XCTAssertEqual(rib.locRIB[p]?.multipath.map(\.nextHop), [ip(h2)])
        }
        // 10.0.0.2 restarts gracefully: its paths stay, stale, and still win (ties prefer fresh).
        var c = rib.peerDown(ip("10.0.0.2"), retainFamilies: [.ipv4Unicast, .ipv6Unicast])
        XCTAssertEqual(c.locRIB.count, 2)
        XCTAssertEqual(rib.locRIB[prefix("10.9.0.0/16")]?.best.stale, true)
        XCTAssertEqual(rib.receivedCount(ip("10.0.0.2")), 2)
        c = rib.purgeStale(ip("10.0.0.2"), family: .ipv4Unicast)
        XCTAssertEqual(rib.locRIB[prefix("10.9.0.0/16")]?.best.peerAddress, ip("10.0.0.3"), "the other path takes over")
        XCTAssertEqual(rib.locRIB[prefix("fd09::/64")]?.best.stale, true, "the other family is left alone")
        XCTAssertTrue(rib.table.multi[prefix("10.9.0.0/16")] == nil, "back to one inline path")
        c = rib.peerDown(ip("10.0.0.3"))
        XCTAssertEqual(c.locRIB.map(\.prefix), [prefix("10.9.0.0/16"), prefix("fd09::/64")])
        XCTAssertNil(rib.locRIB[prefix("10.9.0.0/16")])
        XCTAssertEqual(rib.locRIB[prefix("fd09::/64")]?.best.peerAddress, ip("10.0.0.2"))
    }

    /// The kernel feed gives each changed prefix once, with its selection at the time of asking,
    /// and reports removals.
    func testKernelFeedCoalescesAndReportsRemovals() {
        var rib = RIB(config: config, trackKernel: true)
        _ = rib.peerUp(ibgp("10.0.0.2", id: 2))
        let ps = (0..<3000).map { IPPrefix(address: .v4(0x0C00_0000 + UInt32($0) << 8), length: 24)! }
        _ = rib.receive(announce(ps, hop: "10.0.0.2"), from: ip("10.0.0.2"))
        _ = rib.receive(announce(Array(ps[0..<100]), hop: "10.0.0.5"), from: ip("10.0.0.2"))
        _ = rib.receive(UpdateMessage(withdrawn: Array(ps[100..<200])), from: ip("10.0.0.2"))
        var got: [LocRIBChange] = []
        while rib.kernelChangesPending { got += rib.takeKernelChanges(limit: 1000) }
        XCTAssertEqual(got.count, 3000, "one change per prefix however often it changed")
        let byPrefix = Dictionary(uniqueKeysWithValues: got.map { ($0.prefix, $0) })
        XCTAssertEqual(byPrefix[ps[5]]?.nextHops, [ip("10.0.0.5")], "the latest selection")
        XCTAssertNil(byPrefix[ps[150]]?.best, "withdrawn: removal")
        XCTAssertEqual(byPrefix[ps[2999]]?.nextHops, [ip("10.0.0.2")])
        XCTAssertEqual(rib.takeKernelChanges(limit: 10), [])
        // A prefix withdrawn and announced again before the kernel asks: its final state, once.
        _ = rib.receive(UpdateMessage(withdrawn: [ps[7]]), from: ip("10.0.0.2"))
        _ = rib.receive(announce([ps[7]], hop: "10.0.0.6"), from: ip("10.0.0.2"))
        XCTAssertEqual(rib.takeKernelChanges(limit: 10).map(\.nextHops), [[ip("10.0.0.6")]])
        XCTAssertFalse(RIB(config: config).kernelChangesPending, "off unless asked for")
    }

    /// Kernel state in templates: many destinations over one next hop share one template; an
    /// adopted route of another shape is kept apart and replaced.
    func testKernelStateSharesTemplatesAndConverges() {
        let addresses = [InterfaceAddress(linkIndex: 2, prefix: InetPrefix("10.0.0.1/24")!)]
        var state = KernelRouteState(planner: KernelRoutePlanner(addresses: addresses))
        var rib = RIB(config: config, trackKernel: true)
        _ = rib.peerUp(ibgp("10.0.0.2", id: 2))
        let ps = (0..<2000).map { IPPrefix(address: .v4(0x0D00_0000 + UInt32($0) << 8), length: 24)! }
        _ = rib.receive(announce(ps, hop: "10.0.0.2"), from: ip("10.0.0.2"))
        let foreignShape = KernelRoute(destination: InetPrefix("13.0.5.0/24")!, nextHops: [NextHop(gateway: InetAddress("10.0.0.9"), linkIndex: 2)],
                                       proto: .calicoBGP)
        state.adopt(kernel: [foreignShape])
        let ops = state.apply(rib.takeKernelChanges(limit: 5000))
        XCTAssertEqual(ops.count, 2000)
        XCTAssertEqual(ops.filter { if case .replace = $0 { return true } else { return false } }.count, 1, "the adopted one is replaced")
        for op in ops { state.completed(op, succeeded: true) }
        XCTAssertEqual(state.installedCount, 2000)
        XCTAssertEqual(state.installedRoutes.count, 2000)
        XCTAssertEqual(state.resync(kernel: state.installedRoutes), [], "in sync")
        _ = rib.peerDown(ip("10.0.0.2"))
        let deletes = state.apply(rib.takeKernelChanges(limit: 5000))
        XCTAssertEqual(deletes.count, 2000)
        for op in deletes { state.completed(op, succeeded: true) }
        XCTAssertEqual(state.installedCount, 0)
        XCTAssertEqual(state.installedRoutes, [])
    }
}

/// The hand-made netlink route messages, byte for byte.
final class RouteMessageEncoderTests: XCTestCase {
    func testSingleHopAddMultipathReplaceAndDelete() {
        let single = KernelRoute(destination: InetPrefix("10.244.2.0/24")!, nextHops: [NextHop(gateway: InetAddress("10.0.0.2"), linkIndex: 2)],
                                 proto: .calicoBGP)
        var buf: [UInt8] = []
        RouteMessageEncoder.encode(.add(single), seq: 7, into: &buf)
        XCTAssertEqual(buf, [
            0x3C, 0, 0, 0, 24, 0, 0x05, 0x06, 7, 0, 0, 0, 0, 0, 0, 0,   // nlmsghdr: NEWROUTE, REQUEST|ACK|EXCL|CREATE
            2, 24, 0, 0, 254, 80, 0, 1, 0, 0, 0, 0,                       // rtmsg: inet /24 main proto 80 universe unicast
            8, 0, 1, 0, 10, 244, 2, 0,                                    // RTA_DST
            8, 0, 15, 0, 254, 0, 0, 0,                                    // RTA_TABLE
            8, 0, 5, 0, 10, 0, 0, 2,                                      // RTA_GATEWAY
            8, 0, 4, 0, 2, 0, 0, 0,                                       // RTA_OIF
        ])
        buf = []
        let ecmp = KernelRoute(destination: InetPrefix("10.9.0.0/16")!, nextHops: [
            NextHop(gateway: InetAddress("10.0.0.2"), linkIndex: 2), NextHop(gateway: InetAddress("10.0.0.3"), linkIndex: 3, onLink: true),
        ], proto: .calicoBGP)
        RouteMessageEncoder.encode(.replace(ecmp), seq: 8, into: &buf)
        XCTAssertEqual(Array(buf[4..<8]), [24, 0, 0x05, 0x05], "NEWROUTE with REQUEST|ACK|REPLACE|CREATE")
        XCTAssertEqual(Array(buf[44...]), [
            36, 0, 9, 0,                                                   // RTA_MULTIPATH
            16, 0, 0, 0, 2, 0, 0, 0, 8, 0, 5, 0, 10, 0, 0, 2,              // rtnexthop (weight 1) + gateway
            16, 0, 4, 0, 3, 0, 0, 0, 8, 0, 5, 0, 10, 0, 0, 3,              // on-link
        ])
        buf = []
        RouteMessageEncoder.encode(.delete(single), seq: 9, into: &buf)
        XCTAssertEqual(Array(buf[0..<8]), [44, 0, 0, 0, 25, 0, 0x05, 0], "DELROUTE, no next hops")
        XCTAssertEqual(buf[16 + 6], 255, "scope nowhere: any scope")
        buf.withUnsafeBytes { XCTAssertNil(RouteMessageEncoder.acknowledgement(in: UnsafeRawBufferPointer(rebasing: $0[0..<10]), at: 0)) }
        let ack: [UInt8] = [36, 0, 0, 0, 2, 0, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0, 0xEF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 16)
        ack.withUnsafeBytes {
            let a = RouteMessageEncoder.acknowledgement(in: $0, at: 0)
            XCTAssertEqual(a?.seq, 9)
            XCTAssertEqual(a?.error, 17, "EEXIST")
            XCTAssertEqual(a?.length, 36)
        }
    }
}
