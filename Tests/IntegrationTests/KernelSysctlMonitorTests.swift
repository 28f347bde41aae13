import Core
import Foundation
import XCTest

/// Sysctls inside a namespace and link change notifications, against the real kernel.
final class KernelSysctlMonitorTests: XCTestCase {
    func testCalicoHostVethSysctlsAreAppliedInsideTheNamespace() throws {
        try KernelFixture.withNamespaces(1) { spaces in
            let ns = spaces[0]
            try Netlink(in: ns).createVeth(name: "calisys0", peerName: "peer0")
            let settings = Sysctl.calicoHostVeth("calisys0", ipv4: true, ipv6: true)
            let failures = try ns.run { Sysctl.apply(settings) }
            XCTAssertEqual(failures, [])
            for s in settings {
                let shown = try KernelFixture.ip(ns, ["netns", "exec", KernelFixture.name(ns), "sysctl", "-n", s.key.description])
                XCTAssertEqual(shown.trimmingCharacters(in: .whitespacesAndNewlines), s.value, "\(s.key)")
                XCTAssertEqual(try ns.run { try Sysctl.read(s.key) }, s.value)
            }
            // The host's interfaces are not the namespace's: the same key does not exist out here.
            XCTAssertThrowsError(try Sysctl.read(.ipv4Conf("calisys0", "proxy_arp")!)) {
                XCTAssertTrue(($0 as? KernelError)?.isNotFound == true, "\($0)")
            }
            // Every failure is reported, and the rest still applied.
            let mixed = [SysctlSetting(.ipv4Conf("nosuch0", "proxy_arp")!, "1"),
                         SysctlSetting(.ipv4Conf("calisys0", "proxy_arp")!, "0")]
            let failed = try ns.run { Sysctl.apply(mixed) }
            XCTAssertEqual(failed.count, 1)
            XCTAssertTrue(failed.first?.operation.contains("nosuch0") == true)
            XCTAssertEqual(try ns.run { try Sysctl.read(.ipv4Conf("calisys0", "proxy_arp")!) }, "0")
        }
    }

    func testLinkMonitorSeesCreateChangeAndDelete() async throws {
        let name = KernelFixture.uniqueName("ktmon")
        let ns = try NetNamespace.create(name: name)
        defer { try? NetNamespace.delete(name: name) }
        let monitor = try LinkMonitor(in: ns, includeExisting: true)
        let stream = monitor.events
        let collector = Task { () -> [LinkEvent] in
            var seen: [LinkEvent] = []
            for await e in stream {
                seen.append(e)
                if e.kind == .removed && e.link.name == "ktmon0" { break }
            }
            return seen
        }
        try KernelFixture.ip(ns, ["link", "add", "ktmon0", "type", "veth", "peer", "name", "ktmon1"])
        try KernelFixture.ip(ns, ["link", "set", "ktmon0", "up"])
        try KernelFixture.ip(ns, ["link", "del", "ktmon0"])
        let timeout = Task {
            try await Task.sleep(nanoseconds: 5_000_000_000)
            collector.cancel()
        }
        let seen = await collector.value
        timeout.cancel()

        XCTAssertEqual(seen.first, LinkEvent(.added, try XCTUnwrap(try Netlink(in: ns).link(named: "lo"))))
        let mine = seen.filter { $0.link.name == "ktmon0" }
        XCTAssertEqual(mine.first?.kind, .added)
        XCTAssertEqual(mine.first?.link.kind, "veth")
        XCTAssertTrue(mine.contains { $0.kind == .changed && $0.link.isUp }, "\(mine)")
        XCTAssertEqual(mine.last?.kind, .removed)

        // stop() ends the stream (and the reader thread with it); only events already queued remain
        // (the veth's peer went with it).
        monitor.stop()
        var rest: [LinkEvent] = []
        for await e in stream { rest.append(e) }
        XCTAssertTrue(rest.allSatisfy { $0.link.name == "ktmon1" }, "\(rest)")
    }
}
