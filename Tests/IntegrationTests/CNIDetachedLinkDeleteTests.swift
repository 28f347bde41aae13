@testable import Core
import Foundation
import XCTest

/// `DetachedLinkDelete`: the request it sends, how it reads the kernel's answers, and (as root,
/// in throwaway namespaces) that when it returns the pair, its addresses, routes and neighbours
/// are gone on both sides and the names can be used again at once.
final class CNIDetachedLinkDeleteTests: XCTestCase {
    // From <linux/rtnetlink.h> and <linux/netlink.h>, written out as the test's own oracle.
    private let RTM_NEWLINK: Int32 = 16, RTM_DELLINK: Int32 = 17, NLMSG_ERROR: Int32 = 2
    private let NLM_F_REQUEST: Int32 = 1, NLM_F_ACK: Int32 = 4

    func testRequestIsAnAckedDellinkOfTheIndex() {
        let m = DetachedLinkDelete.message(index: 0x0102_0304, seq: 0xA0B0_C0D0)
        XCTAssertEqual(m.count, 32)
        XCTAssertEqual(Array(m[0..<4]), [32, 0, 0, 0], "nlmsg_len")
        XCTAssertEqual(Array(m[4..<6]), [UInt8(RTM_DELLINK), 0], "nlmsg_type")
        XCTAssertEqual(Array(m[6..<8]), [UInt8(NLM_F_REQUEST | NLM_F_ACK), 0], "nlmsg_flags")
        XCTAssertEqual(Array(m[8..<12]), [0xD0, 0xC0, 0xB0, 0xA0], "nlmsg_seq")
        XCTAssertEqual(m[16], 0, "ifi_family AF_UNSPEC")
        XCTAssertEqual(Array(m[20..<24]), [4, 3, 2, 1], "ifi_index")
    }

    /// A netlink message: header (type, seq) and body.
    private func nl(_ type: Int32, seq: UInt32 = 0, _ body: [UInt8]) -> [UInt8] {
        let len = UInt32(16 + body.count)
        var m = withUnsafeBytes(of: len.littleEndian) { Array($0) }
        m += withUnsafeBytes(of: UInt16(type).littleEndian) { Array($0) } + [0, 0]
        m += withUnsafeBytes(of: seq.littleEndian) { Array($0) } + [0, 0, 0, 0]
        m += body
        while m.count % 4 != 0 { m.append(0) }
        return m
    }

    private func ifinfo(family: UInt8, index: Int32) -> [UInt8] {
        [family, 0, 0, 0] + withUnsafeBytes(of: index.littleEndian) { Array($0) } + [UInt8](repeating: 0, count: 8)
    }

    private func ack(_ error: Int32) -> [UInt8] {
        withUnsafeBytes(of: (-error).littleEndian) { Array($0) } + [UInt8](repeating: 0, count: 16)
    }

    func testOutcomeIsTheLinksBroadcastOrOurAck() {
        let outcome = { (bytes: [UInt8]) in DetachedLinkDelete.outcome(of: bytes, index: 7, seq: 99) }
        XCTAssertEqual(outcome(nl(RTM_DELLINK, ifinfo(family: 0, index: 8))), .pending, "another link")
        XCTAssertEqual(outcome(nl(RTM_DELLINK, ifinfo(family: UInt8(AF_BRIDGE), index: 7))), .pending,
                       "a bridge's port notice comes before the link is unregistered")
        XCTAssertEqual(outcome(nl(RTM_NEWLINK, ifinfo(family: 0, index: 7))), .pending)
        XCTAssertEqual(outcome(nl(RTM_NEWLINK, ifinfo(family: 0, index: 8)) + nl(RTM_DELLINK, ifinfo(family: 0, index: 7))), .gone,
                       "the broadcast after other messages in one read")
        XCTAssertEqual(outcome(nl(NLMSG_ERROR, seq: 99, ack(0))), .gone)
        XCTAssertEqual(outcome(nl(NLMSG_ERROR, seq: 99, ack(ENODEV))), .gone, "already gone is no error")
        XCTAssertEqual(outcome(nl(NLMSG_ERROR, seq: 99, ack(EPERM))), .failed(EPERM))
        XCTAssertEqual(outcome(nl(NLMSG_ERROR, seq: 98, ack(EPERM))), .pending, "another request's ack")
        XCTAssertEqual(outcome(Array(nl(RTM_DELLINK, ifinfo(family: 0, index: 7)).prefix(20))), .pending, "truncated")
    }

    // MARK: root

    private func requireRoot() throws {
        guard getuid() == 0 else { throw DevServerError("needs root (network namespaces)") }
    }

    /// A pod-like pair as the CNI ADD makes it: host end here with a /32 route to the pod, pod
    /// end in `ns` with its address, a permanent neighbour for the gateway and a default route.
    private func makePodPair(_ host: Netlink, _ hostName: String, _ ns: NetNamespace, address: String) throws -> (pod: Netlink, podIndex: Int32) {
        try host.createVeth(name: hostName, peerName: "eth0", peerNamespace: ns, mac: MACAddress("ee:ee:ee:ee:ee:ee")!)
        try host.setUp(hostName)
        let pod = try Netlink(in: ns)
        try pod.setUp("eth0")
        try pod.addAddress(InetPrefix(address + "/32")!, link: "eth0", noDAD: true)
        try pod.setPermanentNeighbour(InetAddress("169.254.1.1")!, mac: MACAddress("ee:ee:ee:ee:ee:ee")!, link: "eth0")
        try KernelFixture.ip(ns, ["route", "add", "169.254.1.1", "dev", "eth0", "scope", "link"])
        try KernelFixture.ip(ns, ["route", "add", "default", "via", "169.254.1.1", "dev", "eth0"])
        try KernelFixture.ip(nil, ["route", "add", address + "/32", "dev", hostName, "scope", "link"])
        return (pod, try pod.linkIndex("eth0"))
    }

    private func assertGone(_ host: Netlink, _ hostName: String, _ pod: Netlink, _ ns: NetNamespace, address: String,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertNil(try host.link(named: hostName), "host end listed", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/sys/class/net/\(hostName)"), "host end in sysfs", file: file, line: line)
        XCTAssertNil(try pod.link(named: "eth0"), "pod end listed", file: file, line: line)
        XCTAssertEqual(try KernelFixture.ip(nil, ["-4", "route", "show", address + "/32"]).trimmingCharacters(in: .whitespacesAndNewlines), "",
                       "host route to the pod", file: file, line: line)
        XCTAssertEqual(try KernelFixture.ip(ns, ["-4", "route", "show"]).trimmingCharacters(in: .whitespacesAndNewlines), "",
                       "pod routes", file: file, line: line)
        XCTAssertEqual(try pod.neighbours().filter { $0.address == InetAddress("169.254.1.1")! }.count, 0, "pod neighbour", file: file, line: line)
        XCTAssertEqual(try KernelFixture.ip(ns, ["-4", "addr", "show"]).contains(address), false, "pod address", file: file, line: line)
    }

    /// `rounds` times: a pod pair with traffic through it, `delete`, then everything must be gone
    /// at once (the next round reuses the names right away).
    private func deleteRounds(_ rounds: Int, subnet: String, prefix: String,
                              _ delete: (_ host: Netlink, _ hostName: String, _ ns: NetNamespace, _ podIndex: Int32) throws -> Void) throws {
        try requireRoot()
        try KernelFixture.withNamespaces(1) { spaces in
            let ns = spaces[0]
            let host = try Netlink()
            let hostName = KernelFixture.uniqueName(prefix)
            defer { _ = try? KernelFixture.ip(nil, ["link", "del", hostName]) }
            for round in 0..<rounds {
                let address = "\(subnet).\(10 + round)"
                let (pod, index) = try makePodPair(host, hostName, ns, address: address)
                // Traffic first: the kernel then holds cached routes and neighbours on both ends.
                XCTAssertNoThrow(try KernelFixture.run("/usr/bin/ping", ["-c", "1", "-W", "2", address]), "host -> pod before the delete")
                try delete(host, hostName, ns, index)
                try assertGone(host, hostName, pod, ns, address: address)
            }
        }
    }

    func testFromThePodSideBothEndsRoutesAndNeighbourAreGoneOnReturnAndTheNamesAreFree() throws {
        try deleteRounds(5, subnet: "100.127.250", prefix: "dld") { _, _, ns, index in
            XCTAssertTrue(try DetachedLinkDelete.delete(named: "eth0", in: ns))
            // Deleting it again (a second DEL) is no error, by name or by its old index.
            XCTAssertFalse(try DetachedLinkDelete.delete(named: "eth0", in: ns))
            try DetachedLinkDelete.delete(index: index, name: "eth0", in: ns)
        }
    }

    func testFromTheHostSideTheSameHolds() throws {
        try deleteRounds(3, subnet: "100.127.251", prefix: "dlh") { host, hostName, _, _ in
            try DetachedLinkDelete.delete(index: try host.linkIndex(hostName), name: hostName)
        }
    }

    func testAFailedRequestIsReportedWithTheKernelsError() throws {
        try requireRoot()
        // Loopback cannot be deleted: the kernel refuses (EINVAL / EOPNOTSUPP) and it stays.
        try KernelFixture.withNamespaces(1) { spaces in
            let lo = try Netlink(in: spaces[0]).requireLink("lo")
            XCTAssertThrowsError(try DetachedLinkDelete.delete(index: lo.index, name: "lo", in: spaces[0])) { error in
                XCTAssertTrue("\(error)".contains("delete link lo"), "\(error)")
            }
            XCTAssertNotNil(try Netlink(in: spaces[0]).link(named: "lo"))
        }
    }
}
