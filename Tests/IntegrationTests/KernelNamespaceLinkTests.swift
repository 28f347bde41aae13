import Core
import Foundation
import XCTest

/// Namespaces and links against the real kernel, checked with `ip -j`.
final class KernelNamespaceLinkTests: XCTestCase {
    func testCreateRunDeleteNamedNamespace() throws {
        let name = KernelFixture.uniqueName("ktns")
        let ns = try NetNamespace.create(name: name)
        var deleted = false
        defer { if !deleted { try? NetNamespace.delete(name: name) } }

        let listed = try KernelFixture.ipJSON(nil, ["netns", "list"]).compactMap { $0.string("name") }
        XCTAssertTrue(listed.contains(name), "ip netns list: \(listed)")
        XCTAssertTrue(NetNamespace.listNamed().contains(name))

        // The closure runs inside the namespace; the caller's thread stays where it was.
        let before = threadNamespaceLink("/proc/thread-self/ns/net")
        let inside = try ns.run { threadNamespaceLink("/proc/thread-self/ns/net") }
        XCTAssertEqual(inside, "net:[\(try ns.identity().inode)]")
        XCTAssertNotEqual(inside, before)
        XCTAssertEqual(threadNamespaceLink("/proc/thread-self/ns/net"), before)
        let links = try ns.run { try Netlink().links().map(\.name) }
        XCTAssertEqual(links, ["lo"])

        // Errors from the closure pass through unchanged.
        struct Marker: Error {}
        XCTAssertThrowsError(try ns.run { throw Marker() }) { XCTAssertTrue($0 is Marker) }

        try NetNamespace.delete(name: name)
        deleted = true
        XCTAssertFalse(NetNamespace.listNamed().contains(name))
        XCTAssertThrowsError(try ns.run { 1 }) { XCTAssertTrue(($0 as? KernelError)?.isNotFound == true, "\($0)") }
        XCTAssertThrowsError(try NetNamespace.delete(name: name)) { XCTAssertTrue(($0 as? KernelError)?.isNotFound == true) }
        XCTAssertThrowsError(try NetNamespace.create(name: "a/b")) {
            XCTAssertEqual(($0 as? KernelError)?.source, .invalidArgument)
        }
    }

    func testAsyncRunReturnsValueFromNamespace() async throws {
        let name = KernelFixture.uniqueName("ktas")
        let ns = try NetNamespace.create(name: name)
        defer { try? NetNamespace.delete(name: name) }
        let inode = try ns.identity().inode
        let inside = try await ns.run { @Sendable in threadNamespaceLink("/proc/thread-self/ns/net") }
        XCTAssertEqual(inside, "net:[\(inode)]")
    }

    /// Many callers entering namespaces at once each land in their own, and no thread comes back switched.
    func testConcurrentRunsNeverLeakANamespace() throws {
        try KernelFixture.withNamespaces(3) { spaces in
            let expected = try spaces.map { "net:[\(try $0.identity().inode)]" }
            let host = threadNamespaceLink("/proc/thread-self/ns/net")
            let results = Results()
            DispatchQueue.concurrentPerform(iterations: 60) { i in
                let before = threadNamespaceLink("/proc/thread-self/ns/net")
                let inside = try? spaces[i % 3].run { threadNamespaceLink("/proc/thread-self/ns/net") }
                results.add(i, inside ?? "error", before == threadNamespaceLink("/proc/thread-self/ns/net") && before == host)
            }
            for (i, (inside, unchanged)) in results.all() {
                XCTAssertEqual(inside, expected[i % 3], "run \(i)")
                XCTAssertTrue(unchanged, "run \(i) left its caller switched")
            }
            XCTAssertEqual(results.all().count, 60)
        }
        XCTAssertThrowsError(try Netlink(in: .named(KernelFixture.uniqueName("absent")))) {
            XCTAssertTrue(($0 as? KernelError)?.isNotFound == true, "\($0)")
        }
    }

    private final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Int: (String, Bool)] = [:]
        func add(_ i: Int, _ inside: String, _ unchanged: Bool) { lock.lock(); values[i] = (inside, unchanged); lock.unlock() }
        func all() -> [Int: (String, Bool)] { lock.lock(); defer { lock.unlock() }; return values }
    }

    func testVethPeerIsCreatedInsideTheOtherNamespace() throws {
        try KernelFixture.withNamespaces(2) { spaces in
            let (hostNS, podNS) = (spaces[0], spaces[1])
            let host = try Netlink(in: hostNS)
            try host.createVeth(name: "cali0123456789a", peerName: "eth0", peerNamespace: podNS,
                                mtu: 1410, mac: .calicoHostVeth)

            let hostLinks = try KernelFixture.ipJSON(hostNS, ["link", "show"])
            XCTAssertEqual(hostLinks.compactMap { $0.string("ifname") }.sorted(), ["cali0123456789a", "lo"])
            let cali = try XCTUnwrap(hostLinks.first { $0.string("ifname") == "cali0123456789a" })
            XCTAssertEqual(cali.string("address"), "ee:ee:ee:ee:ee:ee")
            XCTAssertEqual(cali.int("mtu"), 1410)
            let podLinks = try KernelFixture.ipJSON(podNS, ["-d", "link", "show", "eth0"])
            XCTAssertEqual(podLinks.first?.int("mtu"), 1410)
            XCTAssertEqual((podLinks.first?["linkinfo"] as? [String: Any])?.string("info_kind"), "veth")

            let link = try XCTUnwrap(try host.link(named: "cali0123456789a"))
            XCTAssertEqual(link.kind, "veth")
            XCTAssertEqual(link.mac, .calicoHostVeth)
            XCTAssertEqual(link.mtu, 1410)
            XCTAssertFalse(link.isUp)
            XCTAssertEqual(try host.links().map(\.name), ["lo", "cali0123456789a"])
            XCTAssertNil(try host.link(named: "eth0"))
        }
    }

    func testRenameMTUMACUpDownMoveDelete() throws {
        try KernelFixture.withNamespaces(3) { spaces in
            let nl = try Netlink(in: spaces[0])
            try nl.createVeth(name: "kta", peerName: "ktb")
            try nl.renameLink("kta", to: "ktc")
            try nl.setMTU("ktc", 1300)
            try nl.setMAC("ktc", MACAddress("02:00:00:aa:bb:cc")!)
            try nl.setUp("ktc")
            try nl.setUp("ktb")
            var shown = try XCTUnwrap(try KernelFixture.ipJSON(spaces[0], ["link", "show", "ktc"]).first)
            XCTAssertEqual(shown.int("mtu"), 1300)
            XCTAssertEqual(shown.string("address"), "02:00:00:aa:bb:cc")
            XCTAssertTrue(shown.strings("flags").contains("UP"), "\(shown.strings("flags"))")
            XCTAssertEqual(try nl.requireLink("ktc").isUp, true)

            try nl.setUp("ktc", false)
            shown = try XCTUnwrap(try KernelFixture.ipJSON(spaces[0], ["link", "show", "ktc"]).first)
            XCTAssertFalse(shown.strings("flags").contains("UP"))

            // Move one end away (renamed on the way), then delete the other: the pair goes.
            try nl.moveLink("ktb", to: spaces[1], newName: "moved0")
            XCTAssertEqual(try KernelFixture.ipJSON(spaces[1], ["link", "show", "moved0"]).count, 1)
            XCTAssertNil(try nl.link(named: "ktb"))
            try nl.deleteLink("ktc")
            XCTAssertNil(try nl.link(named: "ktc"))
            XCTAssertNil(try Netlink(in: spaces[1]).link(named: "moved0"))

            XCTAssertThrowsError(try nl.deleteLink("ktc")) { XCTAssertTrue(($0 as? KernelError)?.isNotFound == true, "\($0)") }
            XCTAssertThrowsError(try nl.setMTU("nosuch0", 1500)) { XCTAssertTrue(($0 as? KernelError)?.isNotFound == true, "\($0)") }
            XCTAssertThrowsError(try nl.renameLink("lo", to: "much-too-long-name")) {
                XCTAssertEqual(($0 as? KernelError)?.source, .invalidArgument)
            }
            try nl.createVeth(name: "ktd", peerName: "kte")
            XCTAssertThrowsError(try nl.createVeth(name: "ktd", peerName: "ktf")) {
                XCTAssertTrue(($0 as? KernelError)?.isAlreadyExists == true, "\($0)")
            }
        }
    }
}

/// readlink(2) as a String ("" on failure).
func threadNamespaceLink(_ path: String) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    let n = Glibc.readlink(path, &buffer, buffer.count - 1)
    guard n > 0 else { return "" }
    return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
