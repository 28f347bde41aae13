import Core
import Foundation
import XCTest

/// Route convergence against the real kernel: only our protocol's routes move.
final class KernelRouteSyncTests: XCTestCase {
    func testSyncConvergesOwnRoutesAndLeavesOthersAlone() throws {
        try KernelFixture.withNamespaces(1) { spaces in
            let ns = spaces[0]
            let nl = try Netlink(in: ns)
            let dev = try KernelFixture.upPair(nl, "kts0", "kts1", addresses: ["10.1.0.1/24"])
            func via(_ d: String, _ g: [String]) -> KernelRoute {
                KernelRoute(destination: InetPrefix(d)!, nextHops: g.map { NextHop(gateway: InetAddress($0)!, linkIndex: dev) })
            }
            // Foreign routes: felix's own (another protocol) and a boot route, one at the same destination.
            try KernelFixture.ip(ns, ["route", "add", "10.20.0.0/26", "via", "10.1.0.9", "metric", "7"])
            try KernelFixture.ip(ns, ["route", "add", "10.30.0.0/26", "dev", "kts0", "proto", "81", "scope", "link"])

            var r = try nl.syncRoutes([via("10.20.0.0/26", ["10.1.0.2"]), via("10.21.0.0/26", ["10.1.0.2", "10.1.0.3"]),
                                       .blackhole(InetPrefix("10.22.0.0/26")!, proto: .boot)], proto: .calicoBGP)
            XCTAssertEqual(r.replaced, 3)
            XCTAssertEqual(r.failures, [])
            // Converged: a second pass does nothing.
            r = try nl.syncRoutes([via("10.20.0.0/26", ["10.1.0.2"]), via("10.21.0.0/26", ["10.1.0.3", "10.1.0.2"]),
                                   .blackhole(InetPrefix("10.22.0.0/26")!, proto: .boot)], proto: .calicoBGP)
            XCTAssertEqual(r.replaced + r.deleted, 0)
            // Change one, drop one, keep one.
            r = try nl.syncRoutes([via("10.20.0.0/26", ["10.1.0.4"]), .blackhole(InetPrefix("10.22.0.0/26")!, proto: .boot)],
                                  proto: .calicoBGP)
            XCTAssertEqual(r.replaced, 1)
            XCTAssertEqual(r.deleted, 1)

            let table = try KernelFixture.ipJSON(ns, ["-4", "route", "show"])
                .map { "\($0.string("type").map { $0 + " " } ?? "")\($0.string("dst")!) \($0.string("gateway") ?? "-") \($0.string("protocol") ?? "boot")" }
            XCTAssertEqual(table.sorted(), ["10.1.0.0/24 - kernel", "10.20.0.0/26 10.1.0.4 80", "10.20.0.0/26 10.1.0.9 boot",
                                            "10.30.0.0/26 - 81", "blackhole 10.22.0.0/26 - 80"])
            XCTAssertEqual(try nl.syncRoutes([], proto: .calicoBGP).deleted, 2)
            XCTAssertEqual(try KernelFixture.ipJSON(ns, ["-4", "route", "show"]).count, 3)
            XCTAssertThrowsError(try nl.syncRoutes([], proto: .unspecified))
        }
    }
}
