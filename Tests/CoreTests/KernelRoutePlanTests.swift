@testable import Core
import XCTest

/// The pure route convergence plan.
final class KernelRoutePlanTests: XCTestCase {
    private func via(_ dest: String, _ gateways: [String], metric: UInt32 = 0, table: UInt32 = RouteTable.main) -> KernelRoute {
        KernelRoute(destination: InetPrefix(dest)!, nextHops: gateways.map { NextHop(gateway: InetAddress($0)!, linkIndex: 2) },
                    table: table, proto: .calicoBGP, metric: metric)
    }

    func testAddsChangesAndRemovals() {
        let current = [via("10.1.0.0/26", ["192.168.0.2"]), via("10.2.0.0/26", ["192.168.0.2"]), via("10.3.0.0/26", ["192.168.0.3"])]
        let desired = [via("10.1.0.0/26", ["192.168.0.2"]),            // unchanged
                       via("10.2.0.0/26", ["192.168.0.2", "192.168.0.4"]),  // gains an ECMP hop
                       via("10.4.0.0/26", ["192.168.0.4"])]            // new
        let plan = RoutePlan.make(current: current, desired: desired)
        XCTAssertEqual(plan.toReplace.map(\.destination.description), ["10.2.0.0/26", "10.4.0.0/26"])
        XCTAssertEqual(plan.toDelete.map(\.destination.description), ["10.3.0.0/26"])
        XCTAssertTrue(RoutePlan.make(current: desired, desired: desired).isEmpty)
        XCTAssertEqual(RoutePlan.make(current: current, desired: []).toDelete.count, 3)
    }

    func testKernelNormalisationsAreNotChanges() {
        // Next hop order, IPv6's 0 -> 1024 metric and IPv6's universal scope are the kernel's doing.
        let a = via("10.2.0.0/26", ["192.168.0.2", "192.168.0.4"])
        let b = via("10.2.0.0/26", ["192.168.0.4", "192.168.0.2"])
        XCTAssertTrue(RoutePlan.make(current: [a], desired: [b]).isEmpty)
        var asked = KernelRoute.onLink(InetPrefix("fd00::5/128")!, linkIndex: 4, proto: .calicoFelix)
        var reported = asked
        reported.metric = 1024
        reported.scope = .universe
        XCTAssertTrue(RoutePlan.make(current: [reported], desired: [asked]).isEmpty)
        asked.metric = 100
        let plan = RoutePlan.make(current: [reported], desired: [asked])
        XCTAssertEqual(plan.toReplace.count, 1)
        XCTAssertEqual(plan.toDelete.count, 1)  // another metric is another route
    }

    func testScopeTypeAndTableMatter() {
        var link = KernelRoute.onLink(InetPrefix("10.65.0.5/32")!, linkIndex: 4, proto: .calicoFelix)
        let universe = { () -> KernelRoute in var r = link; r.scope = .universe; return r }()
        XCTAssertEqual(RoutePlan.make(current: [universe], desired: [link]).toReplace, [link])
        link.type = .blackhole
        link.nextHops = []
        XCTAssertEqual(RoutePlan.make(current: [universe], desired: [link]).toReplace.count, 1)
        let t100 = via("10.1.0.0/26", ["192.168.0.2"], table: 100)
        let plan = RoutePlan.make(current: [via("10.1.0.0/26", ["192.168.0.2"])], desired: [t100])
        XCTAssertEqual(plan.toReplace, [t100])
        XCTAssertEqual(plan.toDelete.count, 1)
    }
}
