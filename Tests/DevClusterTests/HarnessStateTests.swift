import Core
import Foundation
import XCTest
@testable import DevCluster

final class HarnessStateTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "hst-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func state() throws -> HarnessState {
        let p = try ClusterPlan(clusterName: "dc", nodeCount: 2)
        return HarnessState(clusterName: "dc", dataDir: dir, createdDataDir: true, underlayNetns: p.underlayNetns, rootLink: p.rootLink,
                            rootAddress: p.rootAddress, cni: .calico, ipam: .hostLocal, staticRoutes: false,
                            referencePluginDir: "/usr/lib/cni", apiServer: nil, nodes: p.nodes)
    }

    func testSaveLoadRoundTripAndPaths() throws {
        var s = try state()
        s.apiServer = .init(pid: 42, url: "https://172.31.0.1:1234", kubeconfig: dir + "/apiserver/admin.kubeconfig", log: "l")
        try s.save()
        XCTAssertEqual(try HarnessState.load(dir), s)
        XCTAssertEqual(s.nodeDir("node-1"), dir + "/nodes/node-1")
        XCTAssertEqual(s.cniPath("node-1"), [dir + "/nodes/node-1/bin", "/usr/lib/cni"])
        s.cni = .reference
        XCTAssertEqual(s.cniPath("node-1"), ["/usr/lib/cni"])
    }

    func testMissingStateSaysToRunUp() {
        XCTAssertThrowsError(try HarnessState.load(dir + "/nope")) { XCTAssertTrue("\($0)".contains("calico-devcluster up")) }
    }

    func testConcurrentUpdatesAreSerialised() throws {
        try state().save()
        let dir = self.dir
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            try? HarnessState.update(dir) { s in
                s.pods.append(.init(namespace: "ns", name: "p\(i)", node: "node-1", netns: "n\(i)", containerID: "c\(i)", uid: "u"))
            }
        }
        XCTAssertEqual(Set(try HarnessState.load(dir).pods.map(\.name)), Set((0..<40).map { "p\($0)" }))
    }

    func testObjectsForTheAPI() throws {
        let p = try ClusterPlan(clusterName: "dc", nodeCount: 1)
        let node = ClusterObjects.node(p.nodes[0])
        XCTAssertEqual(node.metadata.name, "node-1")
        XCTAssertEqual(node.metadata.annotations?["projectcalico.org/IPv4Address"], "172.31.0.11/24")
        XCTAssertEqual(node.spec?.podCIDR, "10.244.1.0/24")
        XCTAssertEqual(node.spec?.podCIDRs, ["10.244.1.0/24"])
        XCTAssertEqual(node.status?.addresses?.first, .init(type: "InternalIP", address: "172.31.0.11"))

        let pod = ClusterObjects.pod(namespace: "ns", name: "a", node: "node-1", labels: ["app": "a"],
                                     ports: [try ClusterObjects.parsePort("http=80"), try ClusterObjects.parsePort("dns=53/udp")])
        XCTAssertEqual(pod.spec.nodeName, "node-1")
        XCTAssertEqual(pod.metadata.labels, ["app": "a"])
        XCTAssertEqual(pod.spec.containers.first?.ports, [ContainerPort(name: "http", containerPort: 80, protocol: "TCP"),
                                                          ContainerPort(name: "dns", containerPort: 53, protocol: "UDP")])
        XCTAssertEqual(ClusterObjects.runningStatus(ips: ["10.244.1.2"], hostIP: "172.31.0.11"), .object(["status": .object([
            "phase": .string("Running"), "hostIP": .string("172.31.0.11"), "podIP": .string("10.244.1.2"),
            "podIPs": .array([.object(["ip": .string("10.244.1.2")])]),
        ])]))
        XCTAssertEqual(try ClusterObjects.parseLabels("a=1,b=x=y,c="), ["a": "1", "b": "x=y", "c": ""])
        XCTAssertThrowsError(try ClusterObjects.parseLabels("novalue"))
        let mapped = try ClusterObjects.parsePort("web=80/TCP:8080")
        XCTAssertEqual(mapped, ContainerPort(name: "web", containerPort: 80, protocol: "TCP", hostPort: 8080))
        XCTAssertEqual(ClusterObjects.portMappings([mapped, try ClusterObjects.parsePort("dns=53/UDP")]), .array([
            .object(["hostPort": .int(8080), "containerPort": .int(80), "protocol": .string("tcp")]),
        ]))
        XCTAssertNil(ClusterObjects.portMappings([try ClusterObjects.parsePort("80")]))
        XCTAssertThrowsError(try ClusterObjects.parsePort("web=80:0"))
        XCTAssertThrowsError(try ClusterObjects.parsePort("web=80:1:2"))
        XCTAssertThrowsError(try ClusterObjects.parsePort("http=99999"))
        XCTAssertThrowsError(try ClusterObjects.parsePort("http=80/ICMP"))
    }

    func testRegistrationAgainstAnAPI() async throws {
        let api = InMemoryKubeAPI()
        let p = try ClusterPlan(clusterName: "dc", nodeCount: 3)
        try await ClusterObjects.register(p, pool: "192.168.0.0/16", api: api)
        let nodes = try await api.list(K8sNode.self).items
        XCTAssertEqual(nodes.map(\.metadata.name).sorted(), ["node-1", "node-2", "node-3"])
        let pool = try await api.get(IPPool.self, name: "default-ipv4-ippool", namespace: nil)
        XCTAssertEqual(pool.spec.cidr, "192.168.0.0/16")
        try await ClusterObjects.ensureNamespace("team", api: api)
        try await ClusterObjects.ensureNamespace("team", api: api)
        let namespaces = try await api.list(Namespace.self).items
        XCTAssertEqual(namespaces.filter { $0.metadata.name == "team" }.count, 1)
    }

    func testStatusText() throws {
        var s = try state()
        s.apiServer = .init(pid: 7, url: "https://172.31.0.1:99", kubeconfig: "/k", log: "/l")
        s.pods = [.init(namespace: "default", name: "a", node: "node-2", netns: "dc-pod-default_a", containerID: "c", uid: "u", ips: ["10.244.2.2"])]
        let text = StatusText.render(s, serverAlive: true)
        XCTAssertTrue(text.contains("API server https://172.31.0.1:99 pid 7 running; KUBECONFIG=/k"), text)
        XCTAssertTrue(text.contains("node-2\tdc-node-2\t172.31.0.12/24\t10.244.2.0/24"), text)
        XCTAssertTrue(text.contains("default/a\tnode-2\t10.244.2.2\tdc-pod-default_a"), text)
        XCTAssertTrue(StatusText.render(s, serverAlive: false).contains("NOT RUNNING"))
    }

    func testListeningURL() {
        XCTAssertNil(APIServerDaemon.listeningURL("listening on https://1.2.3.4:5"))
        XCTAssertEqual(APIServerDaemon.listeningURL("x\nlistening on https://1.2.3.4:5\n"), "https://1.2.3.4:5")
    }
}
