import Core
import Foundation
@testable import Routing
import XCTest

/// The pipelined route socket against the real kernel (root, a throwaway namespace): a batch of
/// adds, an ECMP route and a blackhole in one go, per-operation failures that do not stop the
/// others, a foreign route that neither add nor delete touches, replace and delete.
final class KernelRouteBatchTests: XCTestCase {
    override func setUpWithError() throws {
        guard getuid() == 0 else { throw DevServerError("needs root (network namespaces)") }
    }

    func testBatchAddReplaceDeleteWithPerOperationOutcomes() throws {
        try KernelFixture.withNamespaces(1) { spaces in
            let ns = spaces[0]
            let nl = try Netlink(in: ns)
            let link = try KernelFixture.upPair(nl, "krb\(getpid() % 10_000)a", "krb\(getpid() % 10_000)b",
                                                addresses: ["10.77.0.1/24", "fd77::1/64"])
            let socket = try RouteBatchSocket(namespace: ns)
            func route(_ dest: String, _ hops: [String]) -> KernelRoute {
                KernelRoute(destination: InetPrefix(dest)!, nextHops: hops.map { NextHop(gateway: InetAddress($0), linkIndex: link) },
                            proto: .calicoBGP)
            }
            // Someone else's route at one destination.
            try nl.addRoute(KernelRoute(destination: InetPrefix("10.99.0.0/24")!, nextHops: [NextHop(gateway: InetAddress("10.77.0.9"), linkIndex: link)],
                                        proto: .static))
            var ops: [KernelRouteOp] = (0..<1500).map { .add(route("10.\(100 + $0 / 256).\($0 % 256).0/24", ["10.77.0.2"])) }
            ops.append(.add(route("10.98.0.0/16", ["10.77.0.2", "10.77.0.3"])))
            ops.append(.add(.blackhole(InetPrefix("10.97.0.0/26")!, proto: .calicoBGP)))
            ops.append(.add(route("fd98::/64", ["fd77::2"])))
            ops.append(.add(route("10.99.0.0/24", ["10.77.0.2"])))
            ops.append(.add(route("10.101.0.0/24", ["10.77.0.2"]))) // already added earlier in this batch
            let results = socket.perform(ops)
            XCTAssertEqual(results.count, ops.count)
            XCTAssertEqual(results.prefix(1503).compactMap { $0 }, [], "every new route is in")
            XCTAssertEqual(results[1503]?.isAlreadyExists, true, "the foreign route is not overwritten")
            XCTAssertEqual(results[1504]?.isAlreadyExists, true)

            let ours = try nl.routes(family: nil, proto: .calicoBGP)
            XCTAssertEqual(ours.count, 1503)
            let ecmp = ours.first { $0.destination == InetPrefix("10.98.0.0/16") }
            XCTAssertEqual(Set(ecmp?.nextHops.compactMap(\.gateway) ?? []), [InetAddress("10.77.0.2")!, InetAddress("10.77.0.3")!])
            XCTAssertEqual(ours.first { $0.destination == InetPrefix("10.97.0.0/26") }?.type, .blackhole)
            XCTAssertEqual(ours.first { $0.family == .ipv6 }?.nextHops.first?.gateway, InetAddress("fd77::2"))

            // Replace one, delete everything of ours (and one that is not there), leave the foreign one.
            XCTAssertEqual(socket.perform([.replace(route("10.100.5.0/24", ["10.77.0.3"]))]).compactMap { $0 }, [])
            XCTAssertEqual(try nl.routes(family: .ipv4, proto: .calicoBGP).first { $0.destination == InetPrefix("10.100.5.0/24") }?
                .nextHops.first?.gateway, InetAddress("10.77.0.3"))
            var deletes = ours.map { KernelRouteOp.delete($0) }
            deletes.append(.delete(route("10.99.0.0/24", ["10.77.0.2"])))
            let deleted = socket.perform(deletes)
            XCTAssertEqual(deleted.prefix(ours.count).compactMap { $0 }, [])
            XCTAssertEqual(deleted.last??.isNotFound, true, "a route of another protocol does not match our delete")
            XCTAssertEqual(try nl.routes(family: nil, proto: .calicoBGP), [])
            XCTAssertEqual(try nl.routes(family: .ipv4, proto: .static).map(\.destination), [InetPrefix("10.99.0.0/24")!])
        }
    }
}
