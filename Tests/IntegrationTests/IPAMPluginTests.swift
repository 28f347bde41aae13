import Core
import Foundation
import XCTest

/// `calico-ipam` exec'd as the calico plugin execs it, against the development API server.
final class IPAMPluginTests: XCTestCase {
    var h: IPAMPluginHarness!

    override func setUp() async throws {
        h = try IPAMPluginHarness()
    }

    override func tearDown() async throws {
        h?.shutdown()
        h = nil
    }

    func testAddCheckDelForEverySpecVersion() async throws {
        try await h.addPool("default-ipv4-ippool", "192.168.0.0/16")
        for (i, version) in ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"].enumerated() {
            let id = "ver\(i)"
            let add = try h.run("ADD", containerID: id, config: h.config(version: version))
            XCTAssertEqual(add.status, 0, "\(version): \(add.stdout) \(add.stderr)")
            let json = try XCTUnwrap(add.json, add.stdout)
            XCTAssertEqual(json["cniVersion"] as? String, version)
            let ips = try XCTUnwrap(json["ips"] as? [[String: Any]])
            XCTAssertEqual(ips.count, 1)
            XCTAssertEqual(ips[0]["address"] as? String, "192.168.0.\(i)/32", version)
            XCTAssertEqual(ips[0]["version"] as? String, version < "1.0.0" ? "4" : nil, "the version key exists only before 1.0.0")
            XCTAssertNil(json["interfaces"], "an IPAM plugin reports no interfaces")

            let held = try await h.allocations()
            XCTAssertEqual(held.handles, ["k8s-pod-network.\(id)"])
            let block = try await h.api.get(IPAMBlock.self, name: "192-168-0-0-26", namespace: nil)
            let attr = block.spec.attributes.first { $0.handleID == "k8s-pod-network.\(id)" }
            XCTAssertEqual(attr?.secondary?["pod"], "pod-\(id)")
            XCTAssertEqual(attr?.secondary?["namespace"], "default")
            XCTAssertEqual(attr?.secondary?["node"], "node-a")

            if version >= "0.4.0" {
                let check = try h.run("CHECK", containerID: id, config: h.config(version: version, prevResult: json))
                XCTAssertEqual(check.status, 0, "\(version) CHECK: \(check.stdout)")
                XCTAssertEqual(check.stdout, "")
                // CHECK of a container that holds nothing fails with code 3.
                let other = try h.run("CHECK", containerID: "nobody", config: h.config(version: version, prevResult: json))
                XCTAssertNotEqual(other.status, 0)
                XCTAssertEqual(other.json?["code"] as? Int, 3, other.stdout)
            }
            for attempt in 0..<2 {
                let del = try h.run("DEL", containerID: id, config: h.config(version: version))
                XCTAssertEqual(del.status, 0, "\(version) DEL #\(attempt + 1): \(del.stdout) \(del.stderr)")
                XCTAssertEqual(del.stdout, "")
            }
            let after = try await h.allocations()
            XCTAssertEqual(after.addresses, [], version)
            XCTAssertEqual(after.handles, [], version)
        }
        let version = try h.run("VERSION", containerID: "v", config: "")
        XCTAssertEqual(version.json?["supportedVersions"] as? [String], ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"])
    }

    /// 50 ADDs at once on one node get 50 distinct addresses (the lock file serialises them);
    /// 50 DELs at once leave no allocation and no handle.
    func testFiftyParallelAddsAndDels() async throws {
        try await h.addPool("default-ipv4-ippool", "10.244.0.0/16")
        let ids = (0..<50).map { "par\($0)" }
        let started = Date()
        let adds = try ids.map { try h.start("ADD", containerID: $0, config: h.config()) }.map { h.finish($0) }
        let addTime = Date().timeIntervalSince(started)
        var addresses: [String] = []
        for (id, out) in zip(ids, adds) {
            XCTAssertEqual(out.status, 0, "\(id): \(out.stdout) \(out.stderr)")
            let ips = out.json?["ips"] as? [[String: Any]]
            if let a = ips?.first?["address"] as? String { addresses.append(a) }
        }
        XCTAssertEqual(addresses.count, 50)
        XCTAssertEqual(Set(addresses).count, 50, "duplicate addresses: \(addresses.sorted())")
        XCTAssertTrue(addresses.allSatisfy { IPNet(parsing: "10.244.0.0/16")!.contains(IPNet(parsing: $0)!) })
        let held = try await h.allocations()
        XCTAssertEqual(held.addresses, addresses.map { String($0.split(separator: "/")[0]) }.sorted())
        XCTAssertEqual(held.handles.count, 50)

        let delStart = Date()
        let dels = try ids.map { try h.start("DEL", containerID: $0, config: h.config()) }.map { h.finish($0) }
        let delTime = Date().timeIntervalSince(delStart)
        for out in dels { XCTAssertEqual(out.status, 0, out.stdout + out.stderr) }
        let after = try await h.allocations()
        XCTAssertEqual(after.addresses, [])
        XCTAssertEqual(after.handles, [])
        print("calico-ipam: 50 parallel ADDs in \(String(format: "%.2f", addTime))s, 50 parallel DELs in \(String(format: "%.2f", delTime))s")
    }

    /// Two nodes (each with its own lock file, as on two hosts) allocating at once never collide,
    /// and each ends with its own block.
    func testTwoNodesInParallelNeverCollide() async throws {
        try await h.addPool("p", "10.50.0.0/24", blockSize: 28)
        var procs: [(String, Process)] = []
        for i in 0..<20 {
            for node in ["node-a", "node-b"] {
                let id = "\(node)-\(i)"
                procs.append((node, try h.start("ADD", containerID: id, config: h.config(node: node), node: node)))
            }
        }
        var addresses: [String: [String]] = [:]
        for (node, p) in procs {
            let out = h.finish(p)
            XCTAssertEqual(out.status, 0, out.stdout + out.stderr)
            if let a = (out.json?["ips"] as? [[String: Any]])?.first?["address"] as? String { addresses[node, default: []].append(a) }
        }
        let all = addresses.values.flatMap { $0 }
        XCTAssertEqual(all.count, 40)
        XCTAssertEqual(Set(all).count, 40, "duplicate addresses across nodes")
        let blocks = try await h.api.list(IPAMBlock.self).items
        let affinities = try await h.api.list(BlockAffinity.self).items
        for b in blocks {
            let owners = affinities.filter { $0.spec.cidr == b.spec.cidr && $0.spec.state == "confirmed" }.map { "host:" + $0.spec.node }
            XCTAssertEqual(owners, b.spec.affinity.map { [$0] } ?? [], b.spec.cidr)
        }
        XCTAssertEqual(Set(blocks.compactMap(\.spec.affinity)), ["host:node-a", "host:node-b"])
    }

    /// A full pool answers code 11 naming the pool, and holds nothing for the failed ADD.
    func testExhaustedPoolAndMissingPool() async throws {
        try await h.addPool("tiny", "10.99.0.0/30", blockSize: 30)
        try await h.addPool("big", "10.100.0.0/16")
        let cfg = h.config(ipam: ["ipv4_pools": ["tiny"]])
        for i in 0..<4 {
            let out = try h.run("ADD", containerID: "t\(i)", config: cfg)
            XCTAssertEqual(out.status, 0, out.stdout)
        }
        let full = try h.run("ADD", containerID: "t-over", config: cfg)
        XCTAssertNotEqual(full.status, 0)
        XCTAssertEqual(full.json?["code"] as? Int, 11, full.stdout)
        XCTAssertTrue((full.json?["msg"] as? String ?? "").contains("tiny"), full.stdout)
        var held = try await h.allocations()
        XCTAssertEqual(held.addresses, ["10.99.0.0", "10.99.0.1", "10.99.0.2", "10.99.0.3"])
        XCTAssertFalse(held.handles.contains("k8s-pod-network.t-over"))

        let missing = try h.run("ADD", containerID: "m", config: h.config(ipam: ["ipv4_pools": ["nonexistent"]]))
        XCTAssertEqual(missing.json?["code"] as? Int, 7, missing.stdout)
        XCTAssertTrue((missing.json?["msg"] as? String ?? "").contains("nonexistent"), missing.stdout)

        for i in 0..<4 { XCTAssertEqual(try h.run("DEL", containerID: "t\(i)", config: cfg).status, 0) }
        held = try await h.allocations()
        XCTAssertEqual(held.addresses, [])
        XCTAssertEqual(held.handles, [])
    }

    /// Dual stack from named pools, in a pre-1.0 result (with "version" per IP), and CNI_ARGS IP=.
    func testDualStackAndRequestedAddress() async throws {
        try await h.addPool("v4", "10.80.0.0/16")
        try await h.addPool("v6", "fd00:80::/64")
        let dual = h.config(version: "0.3.1", ipam: ["assign_ipv4": "true", "assign_ipv6": "true", "ipv4_pools": ["v4"], "ipv6_pools": ["fd00:80::/64"]])
        let add = try h.run("ADD", containerID: "dual", config: dual)
        XCTAssertEqual(add.status, 0, add.stdout + add.stderr)
        let ips = try XCTUnwrap(add.json?["ips"] as? [[String: Any]], add.stdout)
        XCTAssertEqual(ips.map { $0["address"] as? String }, ["10.80.0.0/32", "fd00:80::/128"])
        XCTAssertEqual(ips.map { $0["version"] as? String }, ["4", "6"])
        let handle = try await h.api.get(IPAMHandle.self, name: "k8s-pod-network.dual", namespace: nil)
        XCTAssertEqual(handle.spec.block, ["10.80.0.0/26": 1, "fd00:80::/122": 1])

        let fixed = try h.run("ADD", containerID: "fixed", config: h.config(), extraArgs: ";IP=10.80.7.7")
        XCTAssertEqual(fixed.status, 0, fixed.stdout + fixed.stderr)
        XCTAssertEqual((fixed.json?["ips"] as? [[String: Any]])?.first?["address"] as? String, "10.80.7.7/32")
        let taken = try h.run("ADD", containerID: "fixed2", config: h.config(), extraArgs: ";IP=10.80.7.7")
        XCTAssertEqual(taken.json?["code"] as? Int, 11, taken.stdout)
        let bad = try h.run("ADD", containerID: "fixed3", config: h.config(), extraArgs: ";IP=not-an-ip")
        XCTAssertEqual(bad.json?["code"] as? Int, 4, bad.stdout)

        for id in ["dual", "fixed"] { XCTAssertEqual(try h.run("DEL", containerID: id, config: dual).status, 0) }
        let held = try await h.allocations()
        XCTAssertEqual(held.addresses, [])
        XCTAssertEqual(held.handles, [])
    }

    /// GC (1.1.0) releases what the runtime no longer lists, on this node only.
    func testGarbageCollection() async throws {
        try await h.addPool("p", "10.60.0.0/24")
        for id in ["keep", "gone1", "gone2"] { XCTAssertEqual(try h.run("ADD", containerID: id, config: h.config(version: "1.1.0")).status, 0) }
        XCTAssertEqual(try h.run("ADD", containerID: "elsewhere", config: h.config(version: "1.1.0", node: "node-b"), node: "node-b").status, 0)
        var cfg = try JSONSerialization.jsonObject(with: Data(h.config(version: "1.1.0").utf8)) as! [String: Any]
        cfg["cni.dev/valid-attachments"] = [["containerID": "keep", "ifname": "eth0"]]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: cfg), as: UTF8.self)
        let gc = try h.run("GC", containerID: "", config: text)
        XCTAssertEqual(gc.status, 0, gc.stdout + gc.stderr)
        let held = try await h.allocations()
        XCTAssertEqual(held.handles, ["k8s-pod-network.elsewhere", "k8s-pod-network.keep"])
    }

    /// ADD+DEL latency of one pod, sequentially (the figure the benchmark reports).
    func testSequentialAddDelLatency() async throws {
        try await h.addPool("p", "10.70.0.0/16")
        var samples: [Double] = []
        for i in 0..<40 {
            let t = Date()
            let add = try h.run("ADD", containerID: "lat\(i)", config: h.config())
            let del = try h.run("DEL", containerID: "lat\(i)", config: h.config())
            samples.append(Date().timeIntervalSince(t) * 1000)
            XCTAssertEqual(add.status, 0, add.stdout)
            XCTAssertEqual(del.status, 0, del.stdout)
        }
        let held = try await h.allocations()
        XCTAssertEqual(held.addresses, [])
        XCTAssertEqual(held.handles, [])
        let sorted = samples.sorted()
        let median = sorted[sorted.count / 2]
        let p99 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
        print("calico-ipam ADD+DEL latency over \(samples.count) cycles: median \(String(format: "%.1f", median)) ms, p99 \(String(format: "%.1f", p99)) ms")
    }
}
