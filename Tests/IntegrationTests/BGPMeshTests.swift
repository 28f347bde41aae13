import Core
import Foundation
import Routing
import XCTest

/// A small cluster in network namespaces: an underlay namespace with a bridge and one namespace
/// per node (eth0 on the bridge, 10.88.S.N/24), Nodes in a development API server, and the BGP
/// role of each node run in this process (or as a `calico-node bgp` process) with its sockets and
/// kernel routes inside the node's namespace. Removed in `tearDown`, failure or not.
final class BGPNodeLab: @unchecked Sendable {
    let tag: String
    let subnet: Int
    let server: DevServer
    let api: KubeClient
    private(set) var nodes: [String] = []
    private var namespaces: [String] = []
    private var tasks: [Task<Void, Error>] = []
    private var processes: [Process] = []
    let dir: String

    private static let counter = LockedBox(0)

    init() throws {
        let n = Self.counter.withLock { (v: inout Int) -> Int in v += 1; return v }
        tag = "bgm\(getpid() % 10000)x\(n)"
        subnet = Int(getpid() % 150) + n + 50
        dir = NSTemporaryDirectory() + "bgpnodelab-\(tag)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        server = try DevServer.start()
        api = try KubeClient(connection: DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig]))
        do {
            try sh("/usr/sbin/ip", "netns", "add", underlay)
            namespaces.append(underlay)
            try sh("/usr/sbin/ip", "-n", underlay, "link", "add", "br0", "type", "bridge")
            try sh("/usr/sbin/ip", "-n", underlay, "link", "set", "br0", "up")
        } catch {
            tearDown()
            throw error
        }
    }

    var underlay: String { "\(tag)u" }
    func namespace(_ i: Int) -> String { "\(tag)n\(i)" }
    func nodeName(_ i: Int) -> String { "node-\(i)" }
    func address(_ i: Int) -> String { "10.88.\(subnet).\(i)" }
    func podCIDR(_ i: Int) -> String { "10.244.\(i).0/24" }
    func podAddress(_ i: Int) -> String { "10.244.\(i).1" }

    /// A node namespace on the bridge, with a "pod" address of its pod CIDR on lo.
    func addNodeNamespace(_ i: Int) throws {
        let ns = namespace(i)
        try sh("/usr/sbin/ip", "netns", "add", ns)
        namespaces.append(ns)
        try sh("/usr/sbin/ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", "p\(tag)\(i)", "netns", underlay)
        try sh("/usr/sbin/ip", "-n", underlay, "link", "set", "p\(tag)\(i)", "master", "br0", "up")
        try sh("/usr/sbin/ip", "-n", ns, "link", "set", "lo", "up")
        try sh("/usr/sbin/ip", "-n", ns, "addr", "add", "\(address(i))/24", "dev", "eth0")
        try sh("/usr/sbin/ip", "-n", ns, "link", "set", "eth0", "up")
        try sh("/usr/sbin/ip", "-n", ns, "addr", "add", "\(podAddress(i))/32", "dev", "lo")
    }

    /// The Node object as `calico-node startup` leaves it.
    func createNode(_ i: Int, labels: [String: String] = [:], clusterID: String? = nil) async throws {
        var annotations = [NodeBGPSpec.ipv4AddressAnnotation: "\(address(i))/24"]
        if let clusterID { annotations[NodeBGPSpec.clusterIDAnnotation] = clusterID }
        _ = try await api.create(K8sNode(metadata: ObjectMeta(name: nodeName(i), labels: labels, annotations: annotations),
                                         spec: K8sNodeSpec(podCIDR: podCIDR(i))))
    }

    func options(_ i: Int) -> BGPRoleOptions {
        BGPRoleOptions(networkNamespacePath: "/run/netns/\(namespace(i))", holdTime: 9, connectRetrySeconds: 1,
                       statusSeconds: 0.3, startupGraceSeconds: 5)
    }

    /// Runs node i's BGP role in this process.
    func startRole(_ i: Int, health: HealthRegistry? = nil) -> BGPRole {
        let role = BGPRole(api: api, nodeName: nodeName(i), options: options(i), health: health)
        tasks.append(Task { try await role.run() })
        return role
    }

    /// Runs node i's BGP role as `calico-node bgp` (health on `healthPort`).
    func startProcess(_ i: Int, healthPort: Int) throws {
        let p = Process()
        p.executableURL = try Self.calicoNodeBinary()
        p.arguments = ["bgp", "--netns", "/run/netns/\(namespace(i))", "--health-address", "127.0.0.1:\(healthPort)",
                       "--metrics-address", "none", "--nodename-file", "/nonexistent"]
        p.environment = ProcessInfo.processInfo.environment.merging(
            ["KUBECONFIG": server.tokenKubeconfig, "NODENAME": nodeName(i)]) { $1 }
        let log = dir + "/node\(i).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: log)
        p.standardError = FileHandle(forWritingAtPath: log)
        try p.run()
        processes.append(p)
    }

    func processLog(_ i: Int) -> String { (try? String(contentsOfFile: dir + "/node\(i).log", encoding: .utf8)) ?? "" }

    static func calicoNodeBinary() throws -> URL {
        URL(fileURLWithPath: try DevServer.binaryPath()).deletingLastPathComponent().appendingPathComponent("calico-node")
    }

    /// Node i's routes of protocol 80: destination to gateway, or "blackhole".
    func bgpRoutes(_ i: Int) -> [String: String] {
        guard let out = try? sh("/usr/sbin/ip", "-j", "-n", namespace(i), "route", "show", "proto", "80"),
              let list = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] else { return [:] }
        var routes: [String: String] = [:]
        for r in list {
            guard let dst = r["dst"] as? String else { continue }
            if r["type"] as? String == "blackhole" { routes[dst] = "blackhole" }
            else if let gw = r["gateway"] as? String { routes[dst] = gw }
            else if let hops = r["nexthops"] as? [[String: Any]] {
                routes[dst] = hops.compactMap { $0["gateway"] as? String }.sorted().joined(separator: ",")
            }
        }
        return routes
    }

    /// What node i's kernel should hold: a blackhole for its own CIDR and each of `others` via that node.
    func expected(_ i: Int, others: [Int]) -> [String: String] {
        var want = [podCIDR(i): "blackhole"]
        for o in others { want[podCIDR(o)] = address(o) }
        return want
    }

    /// Stops the roles one after another in node order: stopped together, node 1 could still take
    /// the others' Cease (and withdraw their routes) before its own stop, so what a stop leaves in
    /// node 1's kernel would depend on timing.
    func stopRoles() async {
        for t in tasks {
            t.cancel()
            _ = try? await t.value
        }
        tasks = []
    }

    func tearDown() {
        for t in tasks { t.cancel() }
        for p in processes where p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        processes = []
        for ns in namespaces.reversed() { _ = try? sh("/usr/sbin/ip", "netns", "del", ns) }
        namespaces = []
        server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// The BGP role on a cluster of namespaces: the full mesh from Node objects, route reflectors
/// with the mesh off, live removal of a node; routes in every kernel and pods reaching each other.
final class BGPMeshTests: XCTestCase {
    var lab: BGPNodeLab?

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw DevServerError("needs root (network namespaces)") }
    }

    override func tearDown() {
        lab?.tearDown()
        lab = nil
    }

    func testThreeNodeMeshProgramsEveryKernelAndFollowsNodeDeletion() async throws {
        let lab = try BGPNodeLab()
        self.lab = lab
        for i in 1...3 {
            try lab.addNodeNamespace(i)
            try await lab.createNode(i)
        }
        let health = HealthRegistry()
        let one = lab.startRole(1, health: health)
        let two = lab.startRole(2)
        // Node 3 runs as the real command, to show `calico-node bgp` and `ctl node status` too.
        let healthPort = 30000 + Int(getpid() % 20000)
        try lab.startProcess(3, healthPort: healthPort)

        await eventually(40, "every kernel holds the other nodes' pod CIDRs and a blackhole for its own") {
            lab.bgpRoutes(1) == lab.expected(1, others: [2, 3]) && lab.bgpRoutes(2) == lab.expected(2, others: [1, 3])
                && lab.bgpRoutes(3) == lab.expected(3, others: [1, 2])
        }
        if lab.bgpRoutes(3) != lab.expected(3, others: [1, 2]) { print(lab.processLog(3)) }
        await eventually(10, "node 1 ready") { health.health(of: "bgp")?.ready == true }
        let table = await one.peerTable()
        XCTAssertEqual(table.peers.map(\.peerAddress), [lab.address(2), lab.address(3)])
        XCTAssertEqual(Set(table.peers.map(\.peerType)), ["node-to-node mesh"])
        XCTAssertEqual(Set(table.peers.map(\.state)), ["up"])
        // Pod to pod across nodes, both ways through BGP routes: node 1's pod address to node 3's.
        let ping = try sh("/usr/sbin/ip", "netns", "exec", lab.namespace(1), "ping", "-c", "1", "-W", "2",
                          "-I", lab.podAddress(1), lab.podAddress(3))
        XCTAssertTrue(ping.contains("1 received"), ping)

        // The command line: ctl node status against the process's health server.
        let ctl = try DevServer.run(BGPNodeLab.calicoNodeBinary().path,
                                    ["ctl", "node", "status", "--health-address", "127.0.0.1:\(healthPort)"])
        XCTAssertEqual(ctl.status, 0, ctl.err)
        XCTAssertTrue(ctl.out.contains("Calico process is running."), ctl.out)
        XCTAssertTrue(ctl.out.contains("| PEER ADDRESS |"), ctl.out)
        for i in [1, 2] {
            XCTAssertTrue(ctl.out.split(separator: "\n").contains {
                $0.contains(lab.address(i)) && $0.contains("node-to-node mesh") && $0.contains("| up ") && $0.contains("Established")
            }, ctl.out)
        }
        let ready = try DevServer.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(healthPort)/readiness"])
        XCTAssertEqual(ready.out, "200")

        // Node 3 is deleted: its sessions and its routes go from the others.
        try await lab.api.delete(K8sNode.self, name: lab.nodeName(3), namespace: nil)
        await eventually(20, "node 3's routes removed from nodes 1 and 2") {
            lab.bgpRoutes(1) == lab.expected(1, others: [2]) && lab.bgpRoutes(2) == lab.expected(2, others: [1])
        }
        let after = await one.peerTable().peers.map(\.peerAddress)
        XCTAssertEqual(after, [lab.address(2)])
        _ = two
        await lab.stopRoles()
        // Stopping leaves the kernel routes (forwarding survives a restart of calico-node).
        XCTAssertEqual(lab.bgpRoutes(1), lab.expected(1, others: [2]))
    }

    /// The seed's topology: mesh off, a redundant pair of reflectors (one cluster ID), every node
    /// peering with them through one BGPPeer.
    func testRouteReflectorPairWithTheMeshOff() async throws {
        let lab = try BGPNodeLab()
        self.lab = lab
        _ = try await lab.api.create(BGPConfiguration(metadata: ObjectMeta(name: "default"),
                                                      spec: BGPConfigurationSpec(nodeToNodeMeshEnabled: false)))
        _ = try await lab.api.create(BGPPeer(metadata: ObjectMeta(name: "peer-with-route-reflectors"),
                                             spec: BGPPeerSpec(nodeSelector: "all()", peerSelector: "route-reflector == 'true'")))
        for i in 1...4 {
            try lab.addNodeNamespace(i)
            let rr = i <= 2
            try await lab.createNode(i, labels: rr ? ["route-reflector": "true"] : [:], clusterID: rr ? "244.0.0.1" : nil)
        }
        var roles: [BGPRole] = []
        for i in 1...4 { roles.append(lab.startRole(i)) }
        await eventually(40, "every node learns every other node's pod CIDR (clients through the reflectors)") {
            (1...4).allSatisfy { i in lab.bgpRoutes(i) == lab.expected(i, others: (1...4).filter { $0 != i }) }
        }
        for i in 1...4 where lab.bgpRoutes(i) != lab.expected(i, others: (1...4).filter { $0 != i }) {
            XCTFail("node \(i): \(lab.bgpRoutes(i))")
        }
        // Clients peer only with the two reflectors; the reflectors with everyone.
        let client = await roles[2].peerTable().peers
        XCTAssertEqual(client.map(\.peerAddress), [lab.address(1), lab.address(2)])
        XCTAssertEqual(Set(client.map(\.peerType)), ["node specific"])
        let reflector = await roles[0].peerTable().peers
        XCTAssertEqual(reflector.map(\.peerAddress), [lab.address(2), lab.address(3), lab.address(4)])
        let ping = try sh("/usr/sbin/ip", "netns", "exec", lab.namespace(3), "ping", "-c", "1", "-W", "2",
                          "-I", lab.podAddress(3), lab.podAddress(4))
        XCTAssertTrue(ping.contains("1 received"), ping)

        // One reflector goes: the clients still reach each other through the other.
        try await lab.api.delete(K8sNode.self, name: lab.nodeName(1), namespace: nil)
        await eventually(20, "clients keep each other's routes via reflector 2; node 1's routes are gone") {
            lab.bgpRoutes(3) == lab.expected(3, others: [2, 4]) && lab.bgpRoutes(4) == lab.expected(4, others: [2, 3])
        }
        await lab.stopRoles()
    }
}
