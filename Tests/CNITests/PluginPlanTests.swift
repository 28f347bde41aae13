import Core
import Foundation
import XCTest
@testable import CNI

/// The pure decisions of ADD and CHECK: what to create for a pod, the result, the annotations.
final class PluginPlanTests: XCTestCase {
    private func ipam(_ addresses: [String]) -> CNIResult {
        CNIResult(ips: addresses.map { CNIResult.IPConfig(address: CNIIPNetwork($0)!, gateway: nil) })
    }

    private func plan(_ addresses: [String], felix: Bool = false) throws -> PodNetworkPlan {
        try PodNetworkPlan.make(hostVeth: "cali0123456789a", podInterface: "eth0", netns: "/var/run/netns/p",
                                mtu: 1410, ipam: ipam(addresses), felixOwnsRoutes: felix)
    }

    func testIPv4PodGetsHostPrefixGatewayNeighbourAndHostRoute() throws {
        let p = try plan(["10.244.1.5/24"])
        XCTAssertEqual(p.addresses, [InetPrefix("10.244.1.5/32")!])
        XCTAssertEqual(p.neighbours, [InetAddress("169.254.1.1")!])
        XCTAssertEqual(p.podRoutes, [.onLink(InetPrefix("169.254.1.1/32")!),
                                     .via(InetPrefix("0.0.0.0/0")!, InetAddress("169.254.1.1")!)])
        XCTAssertEqual(p.hostRoutes, [InetPrefix("10.244.1.5/32")!])
        XCTAssertEqual(Set(p.hostSysctls.map(\.description)), [
            "net.ipv4.conf.cali0123456789a.route_localnet=1", "net.ipv4.conf.cali0123456789a.proxy_arp=1",
            "net.ipv4.neigh.cali0123456789a.proxy_delay=0", "net.ipv4.conf.cali0123456789a.forwarding=1",
        ])
        XCTAssertFalse(p.hasIPv6)
    }

    func testDualStackAddsIPv6GatewayAndSysctls() throws {
        let p = try plan(["10.244.1.5/24", "fd00::5/64"])
        XCTAssertEqual(p.addresses, [InetPrefix("10.244.1.5/32")!, InetPrefix("fd00::5/128")!])
        XCTAssertEqual(p.neighbours, [InetAddress("169.254.1.1")!, InetAddress("fe80::1")!])
        XCTAssertTrue(p.podRoutes.contains(.via(InetPrefix("::/0")!, InetAddress("fe80::1")!)))
        XCTAssertTrue(p.hostSysctls.contains { $0.description == "net.ipv6.conf.cali0123456789a.proxy_ndp=1" })
        XCTAssertTrue(p.hostSysctls.contains { $0.description == "net.ipv6.conf.cali0123456789a.accept_dad=0" })
        XCTAssertEqual(p.hostRoutes.count, 2)
    }

    func testFelixOwnedRoutesAreLeftOut() throws {
        XCTAssertEqual(try plan(["10.244.1.5/24"], felix: true).hostRoutes, [])
    }

    func testDuplicateAddressesCollapse() throws {
        XCTAssertEqual(try plan(["10.0.0.1/24", "10.0.0.1/32"]).addresses.count, 1)
    }

    func testNoAddressesIsAnIPAMFailure() {
        assertCNIError(.ipamFailure, mentions: "no addresses") { try self.plan([]) }
    }

    func testResultReportsBothInterfacesHostPrefixesAndDefaultRoutes() throws {
        let r = try plan(["10.244.1.5/24", "fd00::5/64"]).result(podMAC: MACAddress("02:00:00:00:00:01"))
        XCTAssertEqual(r.interfaces.map(\.name), ["cali0123456789a", "eth0"])
        XCTAssertEqual(r.interfaces[0].mac, "ee:ee:ee:ee:ee:ee")
        XCTAssertNil(r.interfaces[0].sandbox)
        XCTAssertEqual(r.interfaces[1].sandbox, "/var/run/netns/p")
        XCTAssertEqual(r.ips.map(\.address.description), ["10.244.1.5/32", "fd00::5/128"])
        XCTAssertEqual(r.ips.map(\.interface), [1, 1])
        XCTAssertEqual(r.routes.map(\.dst.description), ["0.0.0.0/0", "::/0"])
        // 0.3.1 shape: the family on every IP; 1.0.0: none.
        let old = r.json(for: .v0_3_1)["ips"]?.arrayValue?.first
        XCTAssertEqual(old?["version"]?.stringValue, "4")
        XCTAssertNil(r.json(for: .v1_0_0)["ips"]?.arrayValue?.first?["version"])
    }

    func testAnnotationPatches() {
        let add = PodAnnotations.addPatch(addresses: [InetPrefix("10.0.0.5/32")!, InetPrefix("fd00::5/128")!], containerID: "c1")
        let a = add["metadata"]?["annotations"]
        XCTAssertEqual(a?["cni.projectcalico.org/podIP"]?.stringValue, "10.0.0.5/32")
        XCTAssertEqual(a?["cni.projectcalico.org/podIPs"]?.stringValue, "10.0.0.5/32,fd00::5/128")
        XCTAssertEqual(a?["cni.projectcalico.org/containerID"]?.stringValue, "c1")
        let del = PodAnnotations.delPatch()["metadata"]?["annotations"]
        XCTAssertEqual(del?["cni.projectcalico.org/podIP"]?.stringValue, "")
        XCTAssertEqual(del?["cni.projectcalico.org/podIPs"]?.stringValue, "")
        XCTAssertNil(del?["cni.projectcalico.org/containerID"])
        XCTAssertTrue(PodAnnotations.delApplies(to: nil, containerID: "c1"))
        XCTAssertTrue(PodAnnotations.delApplies(to: ["cni.projectcalico.org/containerID": "c1"], containerID: "c1"))
        XCTAssertFalse(PodAnnotations.delApplies(to: ["cni.projectcalico.org/containerID": "c2"], containerID: "c1"))
    }

    func testWorkloadNames() throws {
        let config = try NetworkConfig.decode(Fixture.config())
        let k8s = AttachmentRequest(containerID: "abcdef0123456789", ifName: "eth0", netns: nil,
                                    args: try CNIArgs.parse("K8S_POD_NAMESPACE=default;K8S_POD_NAME=nginx"), paths: [], config: config)
        XCTAssertEqual(Workload(k8s).hostVeth, CalicoNames.hostVethName(namespace: "default", pod: "nginx"))
        XCTAssertTrue(Workload(k8s).isKubernetesPod)
        var plain = k8s
        plain.args = CNIArgs()
        XCTAssertEqual(Workload(plain).hostVeth, "caliabcdef01234")
        XCTAssertFalse(Workload(plain).isKubernetesPod)
    }

    func testSettingsAndNodeName() throws {
        XCTAssertEqual(try PluginSettings.read(NetworkConfig.decode(Fixture.config())), PluginSettings())
        let felix = try PluginSettings.read(NetworkConfig.decode(Fixture.config(extra: ["felix_owns_routes": .bool(true)])))
        XCTAssertTrue(felix.felixOwnsRoutes)
        assertCNIError(.decodeFailure, mentions: "felix_owns_routes") {
            try PluginSettings.read(NetworkConfig.decode(Fixture.config(extra: ["felix_owns_routes": .string("yes")])))
        }
        assertCNIError(.invalidNetworkConfig, mentions: "interface_prefix") {
            try PluginSettings.read(NetworkConfig.decode(Fixture.config(extra: ["interface_prefix": .string("toolong")])))
        }

        let noName = try NetworkConfig.decode(Fixture.config(remove: ["nodename"]))
        let resolve = { (file: String?, env: [String: String]) in
            PluginNodeName.resolve(config: noName, environment: env, readFile: { _ in file }, hostname: { "Host-A" })
        }
        XCTAssertEqual(PluginNodeName.resolve(config: try NetworkConfig.decode(Fixture.config()), environment: ["NODENAME": "x"],
                                              readFile: { _ in "y" }, hostname: { "z" }), "node-1")
        XCTAssertEqual(resolve("node-from-file\n", ["NODENAME": "env-node"]), "node-from-file")
        XCTAssertEqual(resolve(nil, ["NODENAME": "env-node"]), "env-node")
        XCTAssertEqual(resolve("  \n", [:]), "host-a")
    }
}
