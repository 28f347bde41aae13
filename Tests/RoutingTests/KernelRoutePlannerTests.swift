import Core
@testable import Routing
import XCTest

/// Loc-RIB to kernel routes, pure: blackholes for our blocks, gateways on the right link,
/// on-link where no subnet holds the next hop, ECMP, and the operation lists of the state.
final class KernelRoutePlannerTests: XCTestCase {
    let eth0: Int32 = 2
    let eth1: Int32 = 3
    var addresses: [InterfaceAddress] {
        [InterfaceAddress(linkIndex: 1, prefix: InetPrefix("127.0.0.1/8")!, scope: .host),
         InterfaceAddress(linkIndex: eth0, prefix: InetPrefix("10.0.0.1/24")!),
         InterfaceAddress(linkIndex: eth1, prefix: InetPrefix("172.16.0.1/16")!),
         InterfaceAddress(linkIndex: eth0, prefix: InetPrefix("fd00::1/64")!)]
    }

    func learned(_ prefix: String, via hop: String, from peer: String? = nil) -> Route {
        Route(prefix: IPPrefix(prefix)!, source: .peer(IPAddress(peer ?? hop)!),
              attributes: PathAttributes(origin: .igp, asPath: ASPath(), nextHop: IPAddress(hop)))
    }

    func change(_ prefix: String, _ routes: [Route]) -> LocRIBChange {
        LocRIBChange(prefix: IPPrefix(prefix)!, best: routes.first, multipath: routes)
    }

    func testOwnBlockIsABlackhole() {
        let planner = KernelRoutePlanner(addresses: addresses)
        let local = Route(prefix: IPPrefix("10.244.1.0/26")!, source: .local, attributes: PathAttributes(origin: .igp))
        let r = planner.route(change("10.244.1.0/26", [local]))
        XCTAssertEqual(r, KernelRoute(destination: InetPrefix("10.244.1.0/26")!, type: .blackhole, proto: .calicoBGP))
    }

    func testNextHopOnItsSubnetsLinkAndOnLinkOtherwise() {
        let planner = KernelRoutePlanner(addresses: addresses)
        XCTAssertEqual(planner.route(change("10.244.2.0/24", [learned("10.244.2.0/24", via: "172.16.5.5")]))?.nextHops,
                       [NextHop(gateway: InetAddress("172.16.5.5"), linkIndex: eth1)])
        XCTAssertEqual(planner.route(change("fd10::/64", [learned("fd10::/64", via: "fd00::2")]))?.nextHops,
                       [NextHop(gateway: InetAddress("fd00::2"), linkIndex: eth0)])
        // No subnet holds 192.168.50.7: on-link through the node's uplink.
        let onLink = planner.route(change("10.244.3.0/24", [learned("10.244.3.0/24", via: "192.168.50.7")]))
        XCTAssertEqual(onLink?.nextHops, [NextHop(gateway: InetAddress("192.168.50.7"), linkIndex: eth0, onLink: true)])
        XCTAssertEqual(onLink?.proto, .calicoBGP)
        XCTAssertEqual(onLink?.type, .unicast)
    }

    func testECMPAndLoopsAndRemoval() {
        let planner = KernelRoutePlanner(addresses: addresses)
        let two = planner.route(change("10.9.0.0/16", [learned("10.9.0.0/16", via: "10.0.0.2"), learned("10.9.0.0/16", via: "10.0.0.3"),
                                                       learned("10.9.0.0/16", via: "10.0.0.3", from: "10.0.0.4")]))
        XCTAssertEqual(two?.nextHops.map(\.gateway), [InetAddress("10.0.0.2"), InetAddress("10.0.0.3")])
        // A path through one of our own addresses would loop: no route.
        XCTAssertNil(planner.route(change("10.8.0.0/16", [learned("10.8.0.0/16", via: "10.0.0.1", from: "10.0.0.9")])))
        XCTAssertNil(planner.route(LocRIBChange(prefix: IPPrefix("10.9.0.0/16")!, best: nil, multipath: [])))
    }

    func testStateAddsReplacesDeletesAndCoalesces() {
        var state = KernelRouteState(planner: KernelRoutePlanner(addresses: addresses))
        let a = change("10.244.2.0/24", [learned("10.244.2.0/24", via: "10.0.0.2")])
        let b = change("10.244.2.0/24", [learned("10.244.2.0/24", via: "10.0.0.3")])
        let gone = change("10.244.3.0/24", [])
        var ops = state.apply([a, gone])
        XCTAssertEqual(ops.count, 1)
        guard case .add(let route)? = ops.first else { return XCTFail("\(ops)") }
        state.completed(ops[0], succeeded: true)
        XCTAssertEqual(state.installedCount, 1)
        XCTAssertEqual(state.apply([a]), [], "nothing changed")
        ops = state.apply([b])
        guard case .replace(let newer)? = ops.first else { return XCTFail("\(ops)") }
        XCTAssertEqual(newer.nextHops.first?.gateway, InetAddress("10.0.0.3"))
        state.completed(ops[0], succeeded: true)
        // Two changes to one prefix in a batch: one operation, for the last.
        ops = state.apply([a, change("10.244.2.0/24", [])])
        XCTAssertEqual(ops, [.delete(newer)])
        state.completed(ops[0], succeeded: true)
        XCTAssertEqual(state.installedCount, 0)
        _ = route
    }

    func testForeignRouteIsNeverOverwrittenUntilResync() {
        var state = KernelRouteState(planner: KernelRoutePlanner(addresses: addresses))
        let a = change("10.244.2.0/24", [learned("10.244.2.0/24", via: "10.0.0.2")])
        let ops = state.apply([a])
        // The kernel says a route is there already (someone else's): blocked, not replaced.
        state.completed(ops[0], succeeded: false, alreadyExists: true)
        XCTAssertEqual(state.installedCount, 0)
        XCTAssertEqual(state.apply([a]), [])
        // A resync (the foreign route may be gone) tries again with add, never replace.
        XCTAssertEqual(state.resync(kernel: []).count, 1)
        if case .add = state.resync(kernel: [])[0] {} else { XCTFail("must add, not replace") }
    }

    func testAdoptedRoutesStayUntilResyncThenGo() {
        var state = KernelRouteState(planner: KernelRoutePlanner(addresses: addresses))
        let old = KernelRoute(destination: InetPrefix("10.244.7.0/24")!, nextHops: [NextHop(gateway: InetAddress("10.0.0.7"), linkIndex: 2)],
                              proto: .calicoBGP)
        let kept = KernelRoute(destination: InetPrefix("10.244.2.0/24")!, nextHops: [NextHop(gateway: InetAddress("10.0.0.2"), linkIndex: 2)],
                               proto: .calicoBGP)
        state.adopt(kernel: [old, kept])
        // The learned route equals what is there: nothing to do (forwarding kept across our restart).
        XCTAssertEqual(state.apply([change("10.244.2.0/24", [learned("10.244.2.0/24", via: "10.0.0.2")])]), [])
        XCTAssertEqual(state.resync(kernel: [old, kept]), [.delete(old)])
    }
}
