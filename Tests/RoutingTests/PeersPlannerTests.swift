import Core
@testable import Routing
import XCTest

/// The desired peer set from Nodes, BGPConfiguration and BGPPeer, as Calico's confd derives it.
final class PeersPlannerTests: XCTestCase {
    func node(_ name: String, _ v4: String?, v6: String? = nil, asn: String? = nil, cluster: String? = nil,
              labels: [String: String] = [:], podCIDR: String? = nil) -> NodeBGPSpec {
        var a: [String: String] = [:]
        if let v4 { a[NodeBGPSpec.ipv4AddressAnnotation] = v4 }
        if let v6 { a[NodeBGPSpec.ipv6AddressAnnotation] = v6 }
        if let asn { a[NodeBGPSpec.asNumberAnnotation] = asn }
        if let cluster { a[NodeBGPSpec.clusterIDAnnotation] = cluster }
        return NodeBGPSpec(node: K8sNode(metadata: ObjectMeta(name: name, labels: labels, annotations: a),
                                         spec: K8sNodeSpec(podCIDR: podCIDR)))
    }

    func peer(_ name: String, _ spec: BGPPeerSpec) -> BGPPeer { BGPPeer(metadata: ObjectMeta(name: name), spec: spec) }

    func addresses(_ plan: PeerPlan) -> [String] { plan.peers.map { "\($0.address)" } }

    func testNodeAnnotationsParse() {
        let n = node("a", "10.0.0.1/24", v6: "fd00::1/64", asn: "1.10", cluster: "244.0.0.1", podCIDR: "10.244.1.0/24")
        XCTAssertEqual(n.ipv4, IPAddress("10.0.0.1"))
        XCTAssertEqual(n.ipv6, IPAddress("fd00::1"))
        XCTAssertEqual(n.asNumber, 65546)
        XCTAssertEqual(n.routeReflectorClusterID, 0xF400_0001)
        XCTAssertEqual(n.podCIDRs, [IPPrefix("10.244.1.0/24")!])
        // Wrong family or garbage counts as absent.
        let bad = node("b", "fd00::9/64", asn: "lots")
        XCTAssertNil(bad.ipv4)
        XCTAssertNil(bad.asNumber)
    }

    func testPeerIPForms() {
        XCTAssertEqual(PeerIP("10.0.0.1"), PeerIP(address: IPAddress("10.0.0.1")!))
        XCTAssertEqual(PeerIP("10.0.0.1:1790"), PeerIP(address: IPAddress("10.0.0.1")!, port: 1790))
        XCTAssertEqual(PeerIP("fd00::1"), PeerIP(address: IPAddress("fd00::1")!))
        XCTAssertEqual(PeerIP("[fd00::1]:1790"), PeerIP(address: IPAddress("fd00::1")!, port: 1790))
        XCTAssertNil(PeerIP("10.0.0.1:0"))
        XCTAssertNil(PeerIP("10.0.0.1:99999"))
        XCTAssertNil(PeerIP("[fd00::1"))
        XCTAssertNil(PeerIP("host.example:179"))
    }

    func testFullMeshByDefaultWithDefaults() {
        let nodes = [node("a", "10.0.0.1/24"), node("b", "10.0.0.2/24", asn: "65001"), node("c", "10.0.0.3/24")]
        let plan = PeerPlanner.plan(nodeName: "b", nodes: nodes, configurations: [:], peers: [])
        XCTAssertEqual(plan.local, LocalBGPSettings(nodeName: "b", asn: 65001, routerID: 0x0A00_0002, listenPort: 179,
                                                    ipv4: IPAddress("10.0.0.2")))
        XCTAssertEqual(addresses(plan), ["10.0.0.1", "10.0.0.3"])
        XCTAssertEqual(plan.peers.map(\.type), [.nodeMesh, .nodeMesh])
        XCTAssertEqual(plan.peers.map(\.asn), [64512, 64512])
        XCTAssertEqual(plan.peers.map(\.node), ["a", "c"])
        // The lower address connects, the higher one waits: one connection per pair.
        XCTAssertEqual(plan.peers.map(\.passive), [true, false])
        XCTAssertEqual(plan.peers.map(\.sourceAddress), [IPAddress("10.0.0.2"), IPAddress("10.0.0.2")])
        XCTAssertTrue(plan.problems.isEmpty)
    }

    func testMeshOverIPv6TooAndGlobalASAndPort() {
        let nodes = [node("a", "10.0.0.1/24", v6: "fd00::1/64"), node("b", "10.0.0.2/24", v6: "fd00::2/64"), node("c", "10.0.0.3/24")]
        let configs = ["default": BGPConfigurationSpec(asNumber: 65100, listenPort: 1179),
                       "node.a": BGPConfigurationSpec(listenPort: 2179)]
        let plan = PeerPlanner.plan(nodeName: "a", nodes: nodes, configurations: configs, peers: [])
        XCTAssertEqual(plan.local?.asn, 65100)
        XCTAssertEqual(plan.local?.listenPort, 2179)
        XCTAssertEqual(addresses(plan), ["10.0.0.2", "10.0.0.3", "fd00::2"])
        XCTAssertEqual(plan.peers[2].sourceAddress, IPAddress("fd00::1"))
        XCTAssertEqual(plan.peers[2].speakerConfig(password: nil).families, [.ipv6Unicast])
        XCTAssertEqual(plan.peers[0].speakerConfig(password: nil).families, [.ipv4Unicast])
        let b = PeerPlanner.plan(nodeName: "b", nodes: nodes, configurations: configs, peers: [])
        XCTAssertEqual(b.local?.listenPort, 1179)
    }

    func testMeshOffLeavesOnlyExplicitPeers() {
        let nodes = [node("a", "10.0.0.1/24"), node("b", "10.0.0.2/24")]
        let configs = ["default": BGPConfigurationSpec(nodeToNodeMeshEnabled: false)]
        XCTAssertEqual(PeerPlanner.plan(nodeName: "a", nodes: nodes, configurations: configs, peers: []).peers, [])
        let tor = peer("tor", BGPPeerSpec(peerIP: "10.0.0.254:1790", asNumber: 65000, keepOriginalNextHop: true,
                                          password: SecretKeySource(secretKeyRef: .init(name: "bgp-secrets", key: "tor"))))
        let plan = PeerPlanner.plan(nodeName: "a", nodes: nodes, configurations: configs, peers: [tor])
        XCTAssertEqual(plan.peers, [DesiredPeer(address: IPAddress("10.0.0.254")!, port: 1790, asn: 65000, type: .global,
                                                resource: "tor", password: .init(name: "bgp-secrets", key: "tor"),
                                                keepOriginalNextHop: true, sourceAddress: IPAddress("10.0.0.1"))])
        let config = plan.peers[0].speakerConfig(password: "s3cret")
        XCTAssertEqual(config.port, 1790)
        XCTAssertEqual(config.password, "s3cret")
        XCTAssertTrue(config.keepOriginalNextHop)
    }

    func testNodeScopedPeersAndSourceNone() {
        let nodes = [node("a", "10.0.0.1/24", labels: ["rack": "r1"]), node("b", "10.0.0.2/24", labels: ["rack": "r2"])]
        let peers = [
            peer("only-b", BGPPeerSpec(node: "b", peerIP: "192.0.2.1", asNumber: 65001)),
            peer("rack1", BGPPeerSpec(peerIP: "192.0.2.2", asNumber: 65002, nodeSelector: "rack == 'r1'", sourceAddress: "None")),
        ]
        let a = PeerPlanner.plan(nodeName: "a", nodes: nodes, configurations: [:], peers: peers)
        XCTAssertEqual(addresses(a), ["10.0.0.2", "192.0.2.2"])
        XCTAssertEqual(a.peers[1].type, .nodeSpecific)
        XCTAssertNil(a.peers[1].sourceAddress)
        let b = PeerPlanner.plan(nodeName: "b", nodes: nodes, configurations: [:], peers: peers)
        XCTAssertEqual(addresses(b), ["10.0.0.1", "192.0.2.1"])
        XCTAssertEqual(b.peers[1].type, .nodeSpecific)
    }

    func testExplicitPeeringOverridesTheMeshForTheSameAddress() {
        let nodes = [node("a", "10.0.0.1/24"), node("b", "10.0.0.2/24", asn: "65002")]
        let p = peer("to-b", BGPPeerSpec(node: "a", peerIP: "10.0.0.2"))
        let plan = PeerPlanner.plan(nodeName: "a", nodes: nodes, configurations: [:], peers: [p])
        XCTAssertEqual(plan.peers.count, 1)
        XCTAssertEqual(plan.peers[0].type, .nodeSpecific)
        XCTAssertEqual(plan.peers[0].asn, 65002, "a Calico node's own AS when the BGPPeer has none")
        XCTAssertEqual(plan.peers[0].node, "b")
    }

    /// The seed's topology: mesh off, two reflectors with one cluster ID, every node peering with them.
    func testRedundantRouteReflectorPair() {
        let rr = ["route-reflector": "true"]
        let nodes = [node("rr1", "10.0.0.1/24", cluster: "244.0.0.1", labels: rr),
                     node("rr2", "10.0.0.2/24", cluster: "244.0.0.1", labels: rr),
                     node("c1", "10.0.0.3/24"), node("c2", "10.0.0.4/24")]
        let configs = ["default": BGPConfigurationSpec(nodeToNodeMeshEnabled: false)]
        let peers = [peer("peer-with-route-reflectors", BGPPeerSpec(nodeSelector: "all()", peerSelector: "route-reflector == 'true'"))]
        let c1 = PeerPlanner.plan(nodeName: "c1", nodes: nodes, configurations: configs, peers: peers)
        XCTAssertEqual(addresses(c1), ["10.0.0.1", "10.0.0.2"])
        XCTAssertEqual(c1.peers.map(\.routeReflectorClient), [false, false])
        XCTAssertNil(c1.local?.clusterID)
        let rr1 = PeerPlanner.plan(nodeName: "rr1", nodes: nodes, configurations: configs, peers: peers)
        XCTAssertEqual(rr1.local?.clusterID, 0xF400_0001)
        XCTAssertEqual(addresses(rr1), ["10.0.0.2", "10.0.0.3", "10.0.0.4"])
        // The other reflector of the same cluster is a plain iBGP peer; the rest are clients.
        XCTAssertEqual(rr1.peers.map(\.routeReflectorClient), [false, true, true])
        XCTAssertEqual(rr1.peers.map(\.node), ["rr2", "c1", "c2"])
        // Even with the mesh on, reflectors stay out of it, and clients mesh among themselves.
        let meshOn = PeerPlanner.plan(nodeName: "c1", nodes: nodes, configurations: [:], peers: peers)
        XCTAssertEqual(addresses(meshOn), ["10.0.0.1", "10.0.0.2", "10.0.0.4"])
        XCTAssertEqual(meshOn.peers.map(\.type), [.nodeSpecific, .nodeSpecific, .nodeMesh])
    }

    func testProblemsSayWhatToFix() {
        let nodes = [node("a", "10.0.0.1/24"), node("v6only", nil, v6: "fd00::5/64")]
        XCTAssertNil(PeerPlanner.plan(nodeName: "ghost", nodes: nodes, configurations: [:], peers: []).local)
        let none = PeerPlanner.plan(nodeName: "x", nodes: [node("x", nil)], configurations: [:], peers: [])
        XCTAssertNil(none.local)
        XCTAssertTrue(none.problems[0].contains("IPv4Address"), none.problems[0])
        let peers = [peer("noas", BGPPeerSpec(peerIP: "192.0.2.1")), peer("badip", BGPPeerSpec(peerIP: "nope", asNumber: 1)),
                     peer("badsel", BGPPeerSpec(peerIP: "192.0.2.3", asNumber: 1, nodeSelector: "a ==")),
                     peer("v6peer", BGPPeerSpec(peerIP: "fd00::99", asNumber: 1)),
                     peer("nothing", BGPPeerSpec(asNumber: 1))]
        let plan = PeerPlanner.plan(nodeName: "a", nodes: nodes, configurations: [:], peers: peers)
        XCTAssertEqual(addresses(plan), [], "an IPv4-only node does not mesh with an IPv6-only one")
        XCTAssertEqual(plan.problems.count, 5, "\(plan.problems)")
        XCTAssertTrue(plan.problems.contains { $0.contains("noas") && $0.contains("asNumber is required") })
        XCTAssertTrue(plan.problems.contains { $0.contains("badip") && $0.contains("not an address") })
        XCTAssertTrue(plan.problems.contains { $0.contains("badsel") && $0.contains("nodeSelector") })
        XCTAssertTrue(plan.problems.contains { $0.contains("v6peer") && $0.contains("no address of that family") })
        XCTAssertTrue(plan.problems.contains { $0.contains("nothing") && $0.contains("peerIP or peerSelector") })
        // An IPv6-only node gets a router ID all the same.
        let v6 = PeerPlanner.plan(nodeName: "v6only", nodes: nodes, configurations: [:], peers: [])
        XCTAssertNotEqual(v6.local?.routerID, 0)
    }

    func testKeepOriginalNextHopOnEBGPExport() {
        let route = Route(prefix: IPPrefix("10.9.0.0/16")!, source: .peer(IPAddress("10.0.0.7")!),
                          attributes: PathAttributes(origin: .igp, asPath: ASPath(), nextHop: IPAddress("10.0.0.7")))
        var to = RIBPeer(address: IPAddress("192.0.2.1")!, asn: 65000, routerID: 9, localAddresses: [IPAddress("10.0.0.1")!])
        let config = RIBConfig(localAS: 64512, routerID: 1)
        XCTAssertEqual(ExportPolicy.export(route, to: to, from: nil, config: config)?.nextHop, IPAddress("10.0.0.1"))
        to.keepOriginalNextHop = true
        XCTAssertEqual(ExportPolicy.export(route, to: to, from: nil, config: config)?.nextHop, IPAddress("10.0.0.7"))
    }
}
