import XCTest
@testable import DevCluster

final class HarnessPlanTests: XCTestCase {
    func testDefaultAddressPlan() throws {
        let p = try ClusterPlan(clusterName: "dc", nodeCount: 3)
        XCTAssertEqual(p.underlayNetns, "dc-underlay")
        XCTAssertEqual(p.rootLink, "dc-ul")
        XCTAssertEqual(p.rootAddress, "172.31.0.1/24")
        XCTAssertEqual(p.rootAddressOnly, "172.31.0.1")
        XCTAssertEqual(p.nodes.map(\.name), ["node-1", "node-2", "node-3"])
        XCTAssertEqual(p.nodes.map(\.netns), ["dc-node-1", "dc-node-2", "dc-node-3"])
        XCTAssertEqual(p.nodes.map(\.address), ["172.31.0.11/24", "172.31.0.12/24", "172.31.0.13/24"])
        XCTAssertEqual(p.nodes.map(\.podCIDR), ["10.244.1.0/24", "10.244.2.0/24", "10.244.3.0/24"])
        XCTAssertEqual(p.nodes[1].addressOnly, "172.31.0.12")
        XCTAssertEqual(p.node(named: "node-2")?.index, 2)
        XCTAssertNil(p.node(named: "node-9"))
    }

    func testOtherNetworksAndLargeClusters() throws {
        let p = try ClusterPlan(clusterName: "t-a1", nodeCount: 200, underlay: "10.1.0.0/16", podCIDRBase: "10.100.0.0/16")
        XCTAssertEqual(p.rootAddress, "10.1.0.1/16")
        XCTAssertEqual(p.nodes[199].address, "10.1.0.210/16")
        XCTAssertEqual(p.nodes[199].podCIDR, "10.100.200.0/24")
        // Every root-side link name fits the kernel's 15 characters.
        XCTAssertLessThanOrEqual(try ClusterPlan(clusterName: "abcdefghij", nodeCount: 1).rootLink.count, 15)
    }

    func testInvalidInputsSayWhatToFix() {
        XCTAssertThrowsError(try ClusterPlan(clusterName: "Bad_Name", nodeCount: 1)) { XCTAssertTrue("\($0)".contains("cluster name")) }
        XCTAssertThrowsError(try ClusterPlan(clusterName: "abcdefghijk", nodeCount: 1))
        XCTAssertThrowsError(try ClusterPlan(clusterName: "dc", nodeCount: 0)) { XCTAssertTrue("\($0)".contains("--nodes")) }
        XCTAssertThrowsError(try ClusterPlan(clusterName: "dc", nodeCount: 1, underlay: "172.31.0.0/28")) { XCTAssertTrue("\($0)".contains("--underlay-cidr")) }
        XCTAssertThrowsError(try ClusterPlan(clusterName: "dc", nodeCount: 1, underlay: "fd00::/64"))
        XCTAssertThrowsError(try ClusterPlan(clusterName: "dc", nodeCount: 1, podCIDRBase: "10.244.0.0/24")) { XCTAssertTrue("\($0)".contains("--pod-cidr-base")) }
    }

    func testPodNetnsNamesCannotCollide() {
        let a = ClusterPlan.podNetns(cluster: "dc", namespace: "a-b", name: "c")
        let b = ClusterPlan.podNetns(cluster: "dc", namespace: "a", name: "b-c")
        XCTAssertEqual(a, "dc-pod-a-b_c")
        XCTAssertNotEqual(a, b)
    }

    func testBlockRoutesForCalicoIPAM() throws {
        let p = try ClusterPlan(clusterName: "dc", nodeCount: 3)
        XCTAssertEqual(NetworkCommands.block(of: "192.168.0.70", blockSize: 26), "192.168.0.64/26")
        XCTAssertNil(NetworkCommands.block(of: "fd00::1", blockSize: 26))
        XCTAssertEqual(NetworkCommands.blockRoutes(block: "192.168.0.64/26", via: p.nodes[1], nodes: p.nodes), [
            ["ip", "-n", "dc-node-1", "route", "replace", "192.168.0.64/26", "via", "172.31.0.12", "dev", "eth0"],
            ["ip", "-n", "dc-node-3", "route", "replace", "192.168.0.64/26", "via", "172.31.0.12", "dev", "eth0"],
        ])
    }

    func testNetworkCommands() throws {
        let p = try ClusterPlan(clusterName: "dc", nodeCount: 2)
        let underlay = NetworkCommands.underlay(p)
        XCTAssertEqual(underlay.first, ["ip", "netns", "add", "dc-underlay"])
        XCTAssertTrue(underlay.contains(["ip", "link", "add", "dc-ul", "type", "veth", "peer", "name", "root", "netns", "dc-underlay"]))
        XCTAssertTrue(underlay.contains(["ip", "addr", "add", "172.31.0.1/24", "dev", "dc-ul"]))
        // The bridge exists before anything is enslaved to it.
        let bridge = try XCTUnwrap(underlay.firstIndex(of: ["ip", "-n", "dc-underlay", "link", "add", "br0", "type", "bridge"]))
        let enslave = try XCTUnwrap(underlay.firstIndex { $0.contains("master") })
        XCTAssertLessThan(bridge, enslave)

        let node = NetworkCommands.node(p.nodes[1], p)
        XCTAssertEqual(node.first, ["ip", "netns", "add", "dc-node-2"])
        XCTAssertTrue(node.contains(["ip", "-n", "dc-underlay", "link", "add", "node-2", "type", "veth", "peer", "name", "eth0", "netns", "dc-node-2"]))
        XCTAssertTrue(node.contains(["ip", "-n", "dc-node-2", "addr", "add", "172.31.0.12/24", "dev", "eth0"]))
        XCTAssertTrue(node.contains(["ip", "-n", "dc-node-2", "link", "set", "lo", "up"]))

        XCTAssertEqual(NetworkCommands.staticRoutes(p), [
            ["ip", "-n", "dc-node-1", "route", "replace", "10.244.2.0/24", "via", "172.31.0.12", "dev", "eth0"],
            ["ip", "-n", "dc-node-2", "route", "replace", "10.244.1.0/24", "via", "172.31.0.11", "dev", "eth0"],
        ])
        XCTAssertEqual(NetworkCommands.teardown(nodeNetns: p.nodes.map(\.netns), underlayNetns: p.underlayNetns, rootLink: p.rootLink), [
            ["ip", "netns", "del", "dc-node-1"], ["ip", "netns", "del", "dc-node-2"],
            ["ip", "netns", "del", "dc-underlay"], ["ip", "link", "del", "dc-ul"],
        ])
    }
}
