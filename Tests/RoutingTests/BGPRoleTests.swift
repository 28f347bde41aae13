import Core
import Foundation
import Prometheus
@testable import Routing
import XCTest

/// Two BGP roles in this process against an in-memory datastore, on loopback addresses
/// (bindMode NodeIP, a free port, no kernel programming): the mesh forms from Node objects,
/// follows node additions, deletions and pod CIDR changes live, and reports health, the peer
/// table and metrics.
final class BGPRoleTests: XCTestCase {
    var tasks: [Task<Void, Error>] = []

    override func tearDown() {
        for t in tasks { t.cancel() }
        tasks = []
    }

    func node(_ name: String, _ ip: String, podCIDR: String) -> K8sNode {
        K8sNode(metadata: ObjectMeta(name: name, annotations: [NodeBGPSpec.ipv4AddressAnnotation: "\(ip)/8"]),
                spec: K8sNodeSpec(podCIDR: podCIDR))
    }

    func eventually(_ seconds: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line,
                    _ condition: () async -> Bool) async {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
        XCTFail("timed out after \(seconds)s waiting for: \(what)", file: file, line: line)
    }

    func testMeshFollowsTheDatastoreLive() async throws {
        let api = InMemoryKubeAPI()
        let port = 20000 + Int(getpid() % 20000)
        _ = try await api.create(BGPConfiguration(metadata: ObjectMeta(name: "default"),
                                                  spec: BGPConfigurationSpec(listenPort: port, bindMode: "NodeIP")))
        _ = try await api.create(node("a", "127.0.0.1", podCIDR: "10.244.1.0/24"))
        _ = try await api.create(node("b", "127.0.0.2", podCIDR: "10.244.2.0/24"))
        let health = HealthRegistry()
        let metrics = PrometheusCollectorRegistry()
        let options = BGPRoleOptions(programKernel: false, holdTime: 9, connectRetrySeconds: 1, statusSeconds: 0.2)
        let a = BGPRole(api: api, nodeName: "a", options: options, health: health, metrics: metrics)
        var plainStop = options
        plainStop.gracefulRestartOnStop = false // b's stop below is the administrative one (Cease)
        let b = BGPRole(api: api, nodeName: "b", options: plainStop)
        tasks = [Task { try await a.run() }, Task { try await b.run() }]

        await eventually(20, "a and b established, each with the other's pod CIDR") {
            let ta = await a.peerTable(), ribA = await a.locRIB(), ribB = await b.locRIB()
            return ta.peers.first?.sessionState == "Established"
                && ribA[IPPrefix("10.244.2.0/24")!]?.best.nextHop == IPAddress("127.0.0.2")
                && ribB[IPPrefix("10.244.1.0/24")!]?.best.nextHop == IPAddress("127.0.0.1")
        }
        await eventually(5, "health ready") { health.health(of: "bgp")?.ready == true }
        let table = await a.peerTable()
        XCTAssertEqual(table.asNumber, 64512)
        XCTAssertEqual(table.routerID, "127.0.0.1")
        XCTAssertEqual(table.peers.map(\.peerAddress), ["127.0.0.2"])
        XCTAssertEqual(table.peers.first?.peerType, "node-to-node mesh")
        XCTAssertEqual(table.peers.first?.state, "up")
        XCTAssertEqual(table.peers.first?.node, "b")
        XCTAssertEqual(table.peers.first?.prefixesReceived, 1)
        XCTAssertEqual(table.peers.first?.prefixesAdvertised, 1)
        // Metrics are refreshed on the status tick, so they may trail the RIB by one tick.
        await eventually(5, "metrics show the session and its prefix") {
            let text = metrics.emitToString()
            return text.contains(#"calico_bgp_sessions{state="Established"} 1"#)
                && text.contains(#"calico_bgp_prefixes_received{peer="127.0.0.2"} 1"#)
        }

        // A third node appears (no speaker there): a session is configured, not up: not ready.
        _ = try await api.create(node("c", "127.0.0.3", podCIDR: "10.244.3.0/24"))
        await eventually(10, "a peers with c") { await a.peerTable().peers.count == 2 }
        await eventually(5, "not ready while c is down, saying which") {
            health.health(of: "bgp")?.ready == false && health.health(of: "bgp")?.detail.contains("1 of 2") == true
        }
        // It goes again: so does its session, and readiness comes back.
        try await api.delete(K8sNode.self, name: "c", namespace: nil)
        await eventually(10, "c's session removed") { await a.peerTable().peers.map(\.peerAddress) == ["127.0.0.2"] }
        await eventually(5, "ready again") { health.health(of: "bgp")?.ready == true }

        // b's pod CIDR changes: the old prefix is withdrawn and the new one arrives at a.
        var nb = try await api.get(K8sNode.self, name: "b", namespace: nil)
        nb.spec = K8sNodeSpec(podCIDR: "10.245.2.0/24")
        _ = try await api.update(nb)
        await eventually(10, "a has b's new CIDR only") {
            let rib = await a.locRIB()
            return rib[IPPrefix("10.245.2.0/24")!] != nil && rib[IPPrefix("10.244.2.0/24")!] == nil
        }

        // Stopping b (cancellation) with graceful restart on stop turned off closes its session with
        // a Cease; a withdraws b's routes at once, since b said it was shutting down.
        tasks[1].cancel()
        _ = try? await tasks[1].value
        // a shows why (for the seconds until it retries and the reason becomes the failed connect).
        var sawShutdown = false
        await eventually(15, "a lost the session and b's routes") {
            let t = await a.peerTable(), rib = await a.locRIB()
            if t.peers.first?.info.contains("shutting down") == true { sawShutdown = true }
            return sawShutdown && t.peers.first?.sessionState != "Established" && rib[IPPrefix("10.245.2.0/24")!] == nil
        }
    }

    func testNodeWithoutAddressIsNotReadyAndSaysWhy() async throws {
        let api = InMemoryKubeAPI()
        _ = try await api.create(K8sNode(metadata: ObjectMeta(name: "lonely")))
        let health = HealthRegistry()
        let role = BGPRole(api: api, nodeName: "lonely", options: BGPRoleOptions(programKernel: false, statusSeconds: 0.2), health: health)
        tasks = [Task { try await role.run() }]
        await eventually(5, "health says why") { health.health(of: "bgp")?.detail.contains("IPv4Address") == true }
        XCTAssertEqual(health.health(of: "bgp")?.ready, false)
        XCTAssertEqual(health.health(of: "bgp")?.live, true)
        let table = await role.peerTable()
        XCTAssertFalse(table.running)
        XCTAssertTrue(table.render().contains("Calico process is not running."))
    }

    func testMissingPasswordSecretIsReportedNotLeaked() async throws {
        let api = InMemoryKubeAPI()
        _ = try await api.create(node("a", "127.0.0.1", podCIDR: "10.244.1.0/24"))
        _ = try await api.create(BGPConfiguration(metadata: ObjectMeta(name: "default"),
                                                  spec: BGPConfigurationSpec(nodeToNodeMeshEnabled: false, listenPort: 20000 + Int(getpid() % 20000) + 1, bindMode: "NodeIP")))
        let ref = SecretKeySource(secretKeyRef: .init(name: "bgp-pw", key: "router"))
        _ = try await api.create(BGPPeer(metadata: ObjectMeta(name: "router"),
                                         spec: BGPPeerSpec(peerIP: "127.0.0.9", asNumber: 65000, password: ref)))
        _ = try await api.create(Secret(metadata: ObjectMeta(name: "bgp-pw", namespace: "kube-system"),
                                        data: ["other": Data("hunter2".utf8).base64EncodedString()]))
        let role = BGPRole(api: api, nodeName: "a", options: BGPRoleOptions(programKernel: false, statusSeconds: 0.2))
        tasks = [Task { try await role.run() }]
        await eventually(5, "problem reported") { await !role.peerTable().problems.isEmpty }
        let table = await role.peerTable()
        XCTAssertEqual(table.peers, [], "no session without its password")
        XCTAssertTrue(table.problems[0].contains("has no key 'router'"), table.problems[0])
        XCTAssertFalse(table.problems.joined().contains("hunter2"))
        // With the key present, the peer is configured.
        var secret = try await api.get(Secret.self, name: "bgp-pw", namespace: "kube-system")
        secret.data = ["router": Data("hunter2".utf8).base64EncodedString()]
        _ = try await api.update(secret)
        // Secrets are re-read on the periodic reconcile; poke one with a BGPPeer change.
        var peer = try await api.get(BGPPeer.self, name: "router", namespace: nil)
        peer.spec.keepOriginalNextHop = true
        _ = try await api.update(peer)
        await eventually(5, "peer configured") { await role.peerTable().peers.map(\.peerAddress) == ["127.0.0.9"] }
        let type = await role.peerTable().peers.first?.peerType
        XCTAssertEqual(type, "global")
    }

    func testStatusTableRendersLikeCalicoctl() {
        let now = ISO8601DateFormatter().date(from: "2026-11-25T10:00:00Z")!
        let table = BGPPeerTable(running: true, nodeName: "a", asNumber: 64512, routerID: "10.0.0.1", peers: [
            BGPPeerTableEntry(peerAddress: "10.0.0.2", peerType: "node-to-node mesh", state: "up", sessionState: "Established",
                              since: "2026-11-25T09:30:04Z", info: "Established", asNumber: 64512, node: "b",
                              prefixesReceived: 1, prefixesAdvertised: 1),
            BGPPeerTableEntry(peerAddress: "10.0.0.254", peerType: "global", state: "start", sessionState: "Active",
                              since: "2026-11-24T09:30:04Z", info: "Active connection failed or closed", asNumber: 65000, node: nil,
                              prefixesReceived: 0, prefixesAdvertised: 0),
        ], problems: [])
        XCTAssertEqual(table.render(now: now, timeZone: TimeZone(identifier: "UTC")!), """
        Calico process is running.

        IPv4 BGP status
        +--------------+-------------------+-------+------------+------------------------------------+
        | PEER ADDRESS |     PEER TYPE     | STATE |   SINCE    |                INFO                |
        +--------------+-------------------+-------+------------+------------------------------------+
        | 10.0.0.2     | node-to-node mesh | up    | 09:30:04   | Established                        |
        | 10.0.0.254   | global            | start | 2026-11-24 | Active connection failed or closed |
        +--------------+-------------------+-------+------------+------------------------------------+

        IPv6 BGP status
        No IPv6 peers found.

        """)
    }

    func testOwnPrefixesPreferAffineBlocks() {
        func block(_ cidr: String, _ affinity: String?, deleted: Bool? = nil) -> IPAMBlock {
            IPAMBlock(metadata: ObjectMeta(name: cidr.replacingOccurrences(of: "/", with: "-")),
                      spec: IPAMBlockSpec(cidr: cidr, affinity: affinity, allocations: [], unallocated: [], deleted: deleted))
        }
        let blocks = [block("192.168.0.0/26", "host:a"), block("192.168.0.64/26", "host:b"), block("192.168.0.128/26", nil),
                      block("192.168.0.192/26", "host:a", deleted: true)]
        XCTAssertEqual(OwnPrefixes.compute(nodeName: "a", blocks: blocks, podCIDRs: [IPPrefix("10.244.1.0/24")!]),
                       [IPPrefix("192.168.0.0/26")!])
        XCTAssertEqual(OwnPrefixes.compute(nodeName: "c", blocks: blocks, podCIDRs: [IPPrefix("10.244.1.0/24")!]),
                       [IPPrefix("10.244.1.0/24")!])
    }
}
