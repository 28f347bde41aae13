import XCTest
@testable import Core

final class ConversionWorkloadTests: XCTestCase {
    private func pod(_ name: String = "web-1", ns: String = "prod-a", node: String? = "node-1",
                     status: PodStatus? = PodStatus(phase: "Running", podIP: "10.0.0.5"),
                     annotations: [String: String]? = nil) -> Pod {
        Pod(metadata: ObjectMeta(name: name, namespace: ns, labels: ["app": "web"], annotations: annotations),
            spec: PodSpec(nodeName: node, serviceAccountName: "builder", containers: [
                Container(name: "c", ports: [ContainerPort(name: "http", containerPort: 8080),
                                             ContainerPort(name: "dns", containerPort: 53, protocol: "UDP"),
                                             ContainerPort(containerPort: 9000)]),
            ]), status: status)
    }

    func testSHA1Vectors() {
        XCTAssertEqual(SHA1.hexDigest(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(SHA1.hexDigest("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(SHA1.hexDigest(String(repeating: "a", count: 1000)), "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }

    func testEndpointFromPod() throws {
        let wep = try XCTUnwrap(WorkloadEndpoint(pod: pod()))
        XCTAssertEqual(wep.name, "node--1-k8s-web--1-eth0")
        XCTAssertEqual(wep.interfaceName, "cali" + SHA1.hexDigest("prod-a.web-1").prefix(11))
        XCTAssertEqual(wep.interfaceName.count, 15)
        XCTAssertEqual(wep.labels, ["app": "web", "projectcalico.org/namespace": "prod-a",
                                    "projectcalico.org/orchestrator": "k8s", "projectcalico.org/serviceaccount": "builder"])
        XCTAssertEqual(wep.profiles, ["kns.prod-a", "ksa.prod-a.builder"])
        XCTAssertEqual(wep.addresses, [IPNet(parsing: "10.0.0.5/32")!])
        XCTAssertEqual(wep.ports, [EndpointPort(name: "http", protocol: .tcp, port: 8080),
                                   EndpointPort(name: "dns", protocol: .udp, port: 53)])
    }

    func testAddressPrecedence() throws {
        let both = PodStatus(podIP: "10.0.0.5", podIPs: [.init(ip: "10.0.0.6"), .init(ip: "fd00::6")])
        XCTAssertEqual(WorkloadEndpoint(pod: pod(status: both))?.addresses.map(\.description), ["10.0.0.6/32", "fd00::6/128"])
        let annotated = pod(status: nil, annotations: ["cni.projectcalico.org/podIPs": "10.1.0.1/32,fd00::1/128",
                                                       "cni.projectcalico.org/podIP": "10.1.0.9/32"])
        XCTAssertEqual(WorkloadEndpoint(pod: annotated)?.addresses.map(\.description), ["10.1.0.1/32", "fd00::1/128"])
        let single = pod(status: nil, annotations: ["cni.projectcalico.org/podIP": "10.1.0.9/32"])
        XCTAssertEqual(WorkloadEndpoint(pod: single)?.addresses.map(\.description), ["10.1.0.9/32"])
        XCTAssertEqual(WorkloadEndpoint(pod: pod(status: nil))?.addresses, [])
    }

    func testPodsWithoutEndpoint() {
        XCTAssertNil(WorkloadEndpoint(pod: pod(node: nil)))
        XCTAssertNil(WorkloadEndpoint(pod: pod(status: PodStatus(phase: "Succeeded"))))
        XCTAssertNil(WorkloadEndpoint(pod: pod(status: PodStatus(phase: "Failed"))))
        var host = pod()
        host.spec.hostNetwork = true
        XCTAssertNil(WorkloadEndpoint(pod: host))
    }

    func testProfiles() {
        let ns = Namespace(metadata: ObjectMeta(name: "prod", labels: ["team": "a"]))
        let profile = Profile(namespace: ns)
        XCTAssertEqual(profile.name, "kns.prod")
        XCTAssertEqual(profile.labels, ["pcns.team": "a", "pcns.projectcalico.org/name": "prod"])
        XCTAssertEqual(profile.ingress, [PolicyRule(action: .allow)])
        XCTAssertEqual(profile.egress, [PolicyRule(action: .allow)])
        let sa = Profile(serviceAccount: ServiceAccount(metadata: ObjectMeta(name: "builder", namespace: "prod", labels: ["k": "v"])))
        XCTAssertEqual(sa.name, "ksa.prod.builder")
        XCTAssertEqual(sa.labels, ["pcsa.k": "v", "pcsa.projectcalico.org/name": "builder"])
        XCTAssertTrue(sa.ingress.isEmpty && sa.egress.isEmpty)
    }

    func testNetworkSets() {
        let set = NetworkSetEntry(networkSet: NetworkSet(metadata: ObjectMeta(name: "ext", namespace: "prod", labels: ["k": "v"]),
                                                         spec: NetworkSetSpec(nets: ["192.168.1.7/24", "junk", "fd00::/8"])))
        XCTAssertEqual(set.key, "prod/ext")
        XCTAssertEqual(set.labels, ["k": "v", "projectcalico.org/namespace": "prod"])
        XCTAssertEqual(set.profiles, ["kns.prod"])
        XCTAssertEqual(set.nets.map(\.description), ["192.168.1.0/24", "fd00::/8"])
        let global = NetworkSetEntry(globalNetworkSet: GlobalNetworkSet(metadata: ObjectMeta(name: "g"), spec: NetworkSetSpec(nets: ["1.2.3.4"])))
        XCTAssertTrue(global.isGlobal)
        XCTAssertEqual(global.nets.map(\.description), ["1.2.3.4/32"])
    }

    func testIPNet() {
        XCTAssertEqual(IPNet(parsing: "10.1.2.3/8")?.description, "10.0.0.0/8")
        XCTAssertNil(IPNet(parsing: "10.1.2.3/33"))
        XCTAssertNil(IPNet(parsing: "10.1.2/8"))
        XCTAssertNil(IPNet(parsing: ""))
        XCTAssertTrue(IPNet(parsing: "10.0.0.0/8")!.contains(IPNet(parsing: "10.9.0.0/16")!))
        XCTAssertFalse(IPNet(parsing: "10.0.0.0/8")!.contains(IPNet(parsing: "11.0.0.1")!))
        XCTAssertEqual(IPNet(parsing: "fd00::1:2/112")?.description, "fd00::1:0/112")
    }
}
