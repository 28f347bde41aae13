import XCTest
@testable import Core

final class StartupSettingsTests: XCTestCase {
    func testDefaults() throws {
        let s = try StartupSettings.parse([:])
        XCTAssertNil(s.nodeName)
        XCTAssertEqual(s.ipv4, .autodetect(.firstFound))
        XCTAssertEqual(s.ipv6, AddressSetting.none)
        XCTAssertNil(s.asNumber)
        XCTAssertEqual(s.networkingBackend, "bird")
        XCTAssertTrue(s.networkingEnabled)
        XCTAssertFalse(s.usePodCIDR)
        XCTAssertEqual(s.clusterType, "k8s,bgp,kdd")
        XCTAssertEqual(s.defaultPools.count, 1)
        let pool = s.defaultPools[0]
        XCTAssertEqual(pool.name, "default-ipv4-ippool")
        XCTAssertEqual(pool.cidr, InetPrefix("192.168.0.0/16"))
        XCTAssertEqual(pool.blockSize, 26)
        XCTAssertEqual(pool.nodeSelector, "all()")
        XCTAssertTrue(pool.natOutgoing)
        XCTAssertEqual(pool.ipipMode, "Never")
    }

    func testEverySetting() throws {
        let s = try StartupSettings.parse([
            "NODENAME": "node-a", "IP": "10.0.0.5/24", "IP6": "autodetect", "IP6_AUTODETECTION_METHOD": "interface=eth0",
            "AS": "64513", "CALICO_ROUTE_REFLECTOR_CLUSTER_ID": "224.0.0.1", "CALICO_IPV4POOL_CIDR": "10.244.0.0/16",
            "CALICO_IPV4POOL_BLOCK_SIZE": "24", "CALICO_IPV4POOL_NODE_SELECTOR": "rack == 'a'", "CALICO_IPV4POOL_NAT_OUTGOING": "false",
            "CALICO_IPV4POOL_IPIP": "crosssubnet", "CALICO_IPV6POOL_CIDR": "fd00:10::/64", "CALICO_NETWORKING_BACKEND": "none",
            "USE_POD_CIDR": "true",
        ])
        XCTAssertEqual(s.nodeName, "node-a")
        XCTAssertEqual(s.ipv4, .fixed(InetPrefix("10.0.0.5/24")!))
        XCTAssertEqual(s.ipv6, .autodetect(.interface(["eth0"])))
        XCTAssertEqual(s.asNumber, "64513")
        XCTAssertEqual(s.routeReflectorClusterID, "224.0.0.1")
        XCTAssertFalse(s.networkingEnabled)
        XCTAssertEqual(s.clusterType, "k8s,kdd")
        XCTAssertTrue(s.usePodCIDR)
        XCTAssertEqual(s.defaultPools.map(\.name), ["default-ipv4-ippool", "default-ipv6-ippool"])
        XCTAssertEqual(s.defaultPools[0].cidr, InetPrefix("10.244.0.0/16"))
        XCTAssertEqual(s.defaultPools[0].blockSize, 24)
        XCTAssertEqual(s.defaultPools[0].ipipMode, "CrossSubnet")
        XCTAssertFalse(s.defaultPools[0].natOutgoing)
        XCTAssertEqual(s.defaultPools[1].blockSize, 122)
        XCTAssertFalse(s.defaultPools[1].natOutgoing)
        XCTAssertEqual(try StartupSettings.parse(["NO_DEFAULT_POOLS": "true"]).defaultPools, [])
    }

    func testInvalidSettingsNameTheVariable() {
        let cases: [(String, String)] = [
            ("IP", "10.0.0.300"), ("IP", "2001:db8::1"), ("IP6", "10.0.0.1"), ("AS", "0"), ("AS", "4294967296"),
            ("AS", "65536.1"), ("CALICO_IPV4POOL_CIDR", "10.0.0.1"), ("CALICO_IPV4POOL_CIDR", "fd00::/64"),
            ("CALICO_IPV4POOL_BLOCK_SIZE", "19"), ("CALICO_IPV4POOL_BLOCK_SIZE", "x"),
            ("CALICO_IPV4POOL_NODE_SELECTOR", "a == "), ("CALICO_NETWORKING_BACKEND", "gobgp"),
            ("NO_DEFAULT_POOLS", "maybe"), ("CALICO_ROUTE_REFLECTOR_CLUSTER_ID", "cluster-1"),
            ("CALICO_IPV4POOL_IPIP", "sometimes"),
        ]
        for (name, value) in cases {
            XCTAssertThrowsError(try StartupSettings.parse([name: value])) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(name)="), "\(name)=\(value): \(error)")
            }
        }
        // A block size shorter than the pool itself.
        XCTAssertThrowsError(try StartupSettings.parse(["CALICO_IPV4POOL_CIDR": "10.0.0.0/28", "CALICO_IPV4POOL_BLOCK_SIZE": "26"]))
    }

    func testASNumbers() {
        XCTAssertEqual(StartupSettings.parseASNumber("64512"), 64512)
        XCTAssertEqual(StartupSettings.parseASNumber("1.10"), 65546)
        XCTAssertEqual(StartupSettings.parseASNumber("4294967295"), 4294967295)
        XCTAssertNil(StartupSettings.parseASNumber("0.0"))
        XCTAssertNil(StartupSettings.parseASNumber("-1"))
    }

    func testNodeNameOrder() throws {
        let dir = NSTemporaryDirectory() + "startup-nodename-\(getpid())-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/nodename"
        XCTAssertEqual(NodeNameResolver.resolve(environment: nil, file: file, hostname: "Host-A\n"), "host-a")
        try NodeNameResolver.write("from-file", to: file)
        XCTAssertEqual(NodeNameResolver.resolve(environment: nil, file: file, hostname: "host-a"), "from-file")
        XCTAssertEqual(NodeNameResolver.resolve(environment: " from-env ", file: file, hostname: "host-a"), "from-env")
        XCTAssertEqual(NodeNameResolver.resolve(environment: "", file: file, hostname: "host-a"), "from-file")
    }
}
