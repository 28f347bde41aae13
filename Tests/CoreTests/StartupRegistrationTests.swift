import XCTest
@testable import Core

final class StartupRegistrationTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = NSTemporaryDirectory() + "startup-reg-\(getpid())-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func host(_ interfaces: [HostInterface]) -> NodeStartup.Host {
        NodeStartup.Host(interfaces: { interfaces }, sourceAddress: { _, _ in nil })
    }

    private let interfaces = [HostInterface(name: "eth0", addresses: [InetPrefix("10.0.0.5/24")!])]

    private func startup(_ api: KubeAPI, _ env: [String: String], node: String = "node-a") throws -> NodeStartup {
        NodeStartup(api: api, settings: try StartupSettings.parse(env), nodeName: node, nodenameFile: dir + "/nodename",
                    host: host(interfaces), wait: APIWait(timeout: .seconds(2), initialDelay: .milliseconds(10)))
    }

    private func makeNode(_ api: InMemoryKubeAPI, podCIDR: String? = "10.244.1.0/24") async throws {
        var node = K8sNode(metadata: ObjectMeta(name: "node-a", annotations: ["projectcalico.org/IPv6Address": "fd00::9/64", "other": "kept"]),
                           spec: K8sNodeSpec(podCIDR: podCIDR),
                           status: K8sNodeStatus(conditions: [.init(type: "Ready", status: "True"),
                                                              .init(type: "NetworkUnavailable", status: "True")]))
        node.raw = nil
        _ = try await api.create(node)
    }

    func testRegistersNodePoolsAndClusterInformation() async throws {
        let api = InMemoryKubeAPI()
        try await makeNode(api)
        let report = try await startup(api, ["AS": "64513", "CALICO_ROUTE_REFLECTOR_CLUSTER_ID": "224.0.0.1"]).run()
        XCTAssertEqual(report.ipv4, InetPrefix("10.0.0.5/24"))
        XCTAssertEqual(report.createdPools, ["default-ipv4-ippool"])
        XCTAssertTrue(report.createdClusterInformation)

        let node = try await api.get(K8sNode.self, name: "node-a", namespace: nil)
        let a = node.metadata.annotations ?? [:]
        XCTAssertEqual(a["projectcalico.org/IPv4Address"], "10.0.0.5/24")
        XCTAssertNil(a["projectcalico.org/IPv6Address"], "IP6=none removes a stale IPv6 annotation")
        XCTAssertEqual(a["projectcalico.org/ASNumber"], "64513")
        XCTAssertEqual(a["projectcalico.org/RouteReflectorClusterID"], "224.0.0.1")
        XCTAssertEqual(a["other"], "kept")
        let conditions = node.status?.conditions ?? []
        XCTAssertEqual(conditions.first { $0.type == "NetworkUnavailable" }?.status, "False")
        XCTAssertEqual(conditions.first { $0.type == "NetworkUnavailable" }?.reason, "CalicoIsUp")
        XCTAssertEqual(conditions.first { $0.type == "Ready" }?.status, "True")

        let pool = try await api.get(IPPool.self, name: "default-ipv4-ippool", namespace: nil)
        XCTAssertEqual(pool.spec.cidr, "192.168.0.0/16")
        XCTAssertEqual(pool.spec.blockSize, 26)
        XCTAssertEqual(pool.spec.nodeSelector, "all()")
        XCTAssertEqual(pool.spec.natOutgoing, true)
        let info = try await api.get(ClusterInformation.self, name: "default", namespace: nil)
        XCTAssertEqual(info.spec.datastoreReady, true)
        XCTAssertEqual(info.spec.calicoVersion, CalicoVersion.version)
        XCTAssertEqual(info.spec.clusterGUID?.count, 32)
        XCTAssertEqual(try String(contentsOfFile: dir + "/nodename", encoding: .utf8), "node-a")

        // A second run changes nothing it need not: the GUID stays, no pool is added.
        let again = try await startup(api, [:]).run()
        XCTAssertEqual(again.createdPools, [])
        XCTAssertFalse(again.createdClusterInformation)
        let info2 = try await api.get(ClusterInformation.self, name: "default", namespace: nil)
        XCTAssertEqual(info2.spec.clusterGUID, info.spec.clusterGUID)
    }

    func testExistingPoolSuppressesTheDefault() async throws {
        let api = InMemoryKubeAPI()
        try await makeNode(api)
        _ = try await api.create(IPPool(metadata: ObjectMeta(name: "mine"), spec: IPPoolSpec(cidr: "10.10.0.0/16")))
        let report = try await startup(api, ["CALICO_NETWORKING_BACKEND": "none"]).run()
        XCTAssertEqual(report.createdPools, [])
        let pools = try await api.list(IPPool.self)
        XCTAssertEqual(pools.items.map(\.metadata.name), ["mine"])
        // Policy-only mode leaves NetworkUnavailable to the real network provider.
        let node = try await api.get(K8sNode.self, name: "node-a", namespace: nil)
        XCTAssertEqual(node.status?.conditions?.first { $0.type == "NetworkUnavailable" }?.status, "True")
    }

    func testMissingNodeAndPodCIDRErrorsSayWhatToDo() async throws {
        let api = InMemoryKubeAPI()
        let ghost = try startup(api, [:], node: "ghost")
        do {
            _ = try await ghost.run()
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error, .nodeNotFound(node: "ghost"))
            XCTAssertTrue(error.description.contains("set NODENAME"))
        }
        try await makeNode(api, podCIDR: nil)
        let podCIDR = try startup(api, ["USE_POD_CIDR": "true"])
        do {
            _ = try await podCIDR.run()
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error, .nodeWithoutPodCIDR(node: "node-a"))
            XCTAssertTrue(error.description.contains("--allocate-node-cidrs=true"))
        }
    }

    func testWaitsForTheAPIThenGivesUpWithAClearError() async throws {
        let api = InMemoryKubeAPI()
        try await makeNode(api)
        api.failNext(3, with: KubeError.transport("connection refused"))
        let report = try await startup(api, [:]).run()
        XCTAssertEqual(report.nodeName, "node-a")

        api.partition()
        let partitioned = try startup(api, [:])
        do {
            _ = try await partitioned.run()
            XCTFail("expected an error")
        } catch {
            guard case .apiUnreachable(let seconds, let last) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(seconds, 2)
            XCTAssertTrue(last.contains("connection refused"))
            XCTAssertTrue(error.description.contains("KUBECONFIG"))
        }
    }

    func testFixedBareAddressTakesTheInterfacePrefix() async throws {
        let api = InMemoryKubeAPI()
        try await makeNode(api)
        let report = try await startup(api, ["IP": "10.0.0.5", "IP6": "fd00::1/64"]).run()
        XCTAssertEqual(report.ipv4, InetPrefix("10.0.0.5/24"))
        XCTAssertEqual(report.ipv6, InetPrefix("fd00::1/64"))
    }
}
