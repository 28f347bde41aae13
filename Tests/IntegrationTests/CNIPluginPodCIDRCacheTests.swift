import CNI
import Core
import Foundation
import IPAM
import XCTest

/// usePodCidr's on-disk cache: the first ADD reads the Node and caches its pod CIDRs; a later
/// ADD uses the cache and confirms it against the Node in parallel. A stale entry (the Node
/// registered again with another range) fails that ADD with code 11, holding nothing, and
/// refreshes the entry, so the retry gets an address from the Node's range.
final class CNIPluginPodCIDRCacheTests: CNIFixtureTestCase {
    override class var fixtureTag: String { "cnc" }

    private var cache: PodCIDRCache { PodCIDRCache(directory: fx.podCIDRCacheDir) }

    func testTheCacheIsFilledThenConfirmedAndAStaleEntryIsRefreshed() throws {
        let first = try fx.makePod("cachefirst")
        let config = fx.config(version: "1.0.0")
        let r1 = try fx.add(first, config: config)
        XCTAssertTrue("\(r1)".contains(fx.podCIDR.replacingOccurrences(of: ".0/24", with: ".")), "\(r1)")
        let entries = try FileManager.default.contentsOfDirectory(atPath: fx.podCIDRCacheDir).filter { $0.hasPrefix(fx.nodeName + ".") }
        XCTAssertEqual(entries.count, 1, "one entry for this Node and API server")
        let path = fx.podCIDRCacheDir + "/" + entries[0]
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), fx.podCIDR + "\n")
        XCTAssertEqual(try fx.run("DEL", first, config: config).status, 0)

        // As if the Node had been registered again with another range since it was cached.
        try "10.199.0.0/24\n".write(toFile: path, atomically: true, encoding: .utf8)
        let second = try fx.makePod("cachestale")
        let stale = try fx.run("ADD", second, config: config)
        XCTAssertEqual(stale.code, ErrorCode.tryAgainLater.rawValue, stale.stdout)
        XCTAssertTrue((stale.json["msg"] as? String ?? "").contains(fx.podCIDR), stale.stdout)
        XCTAssertEqual(fx.reservations(), [:], "the address from the stale range is given back")
        XCTAssertFalse(fx.hostLinkExists(second.hostVeth), "the veth is removed again")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), fx.podCIDR + "\n", "the entry is refreshed")

        // The kubelet's retry: an address from the Node's own range.
        let retry = try fx.add(second, config: config)
        XCTAssertTrue("\(retry)".contains(fx.podCIDR.replacingOccurrences(of: ".0/24", with: ".")), "\(retry)")
        XCTAssertEqual(try fx.run("DEL", second, config: config).status, 0)
        XCTAssertEqual(fx.reservations(), [:])
    }

    func testEntriesAreKeptPerNodeAndServerAndWrittenWhole() throws {
        let c = PodCIDRCache(directory: fx.podCIDRCacheDir + "/unit")
        XCTAssertNil(c.read(server: "https://a:6443", node: "n1"))
        c.write(["10.1.0.0/24", "fd00::/64"], server: "https://a:6443", node: "n1")
        XCTAssertEqual(c.read(server: "https://a:6443", node: "n1"), ["10.1.0.0/24", "fd00::/64"])
        XCTAssertNil(c.read(server: "https://b:6443", node: "n1"), "another API server is another cluster")
        XCTAssertNil(c.read(server: "https://a:6443", node: "n2"))
        XCTAssertNotEqual(c.path(server: "https://a:6443", node: "../x"), c.directory + "/../x", "node names cannot escape the directory")
        try "garbage\n".write(toFile: c.path(server: "https://a:6443", node: "n1"), atomically: true, encoding: .utf8)
        XCTAssertNil(c.read(server: "https://a:6443", node: "n1"), "an unparsable entry is no entry")
        c.write([], server: "https://a:6443", node: "n1")
        XCTAssertFalse(FileManager.default.fileExists(atPath: c.path(server: "https://a:6443", node: "n1")), "no CIDRs removes the entry")
    }
}
