import Core
import Foundation
import XCTest

/// The dev cluster with our own plugins installed by install-cni (the default `--cni calico`):
/// the kubelet's chain calico -> portmap, with host-local (usePodCidr) and with Calico IPAM.
final class DevClusterHarnessCalicoTests: XCTestCase {
    private func kubectlJSON(_ cluster: DevClusterDriver, _ args: [String]) throws -> JSONValue {
        let r = try DevServer.run("/usr/bin/kubectl", ["--kubeconfig", cluster.kubeconfig] + args + ["-o", "json"])
        XCTAssertEqual(r.status, 0, r.err)
        return try JSONValue(data: Data(r.out.utf8))
    }

    func testCalicoPluginWithHostLocalAcrossNodes() throws {
        let cluster = try DevClusterDriver.up(nodes: 2, staticRoutes: true)
        defer { cluster.down() }
        // install-cni linked the plugins into each node's bin dir and wrote its conflist.
        for node in ["node-1", "node-2"] {
            let bin = cluster.dataDir + "/nodes/\(node)/bin/"
            XCTAssertNotNil(try? FileManager.default.destinationOfSymbolicLink(atPath: bin + "calico"))
            XCTAssertNotNil(try? FileManager.default.destinationOfSymbolicLink(atPath: bin + "calico-ipam"))
            let conf = try JSONValue(data: Data(contentsOf: URL(fileURLWithPath: cluster.dataDir + "/nodes/\(node)/net.d/10-calico.conflist")))
            XCTAssertEqual(conf["plugins"]?.arrayValue?.first?["nodename"]?.stringValue, node)
        }

        let a = try cluster.podAdd(node: "node-1", name: "a", labels: ["app": "a"], ports: ["http=80/TCP:8080"])
        let b = try cluster.podAdd(node: "node-1", name: "b")
        let c = try cluster.podAdd(node: "node-2", namespace: "other", name: "c")
        XCTAssertTrue(a[0].hasPrefix("10.244.1.") && b[0].hasPrefix("10.244.1.") && c[0].hasPrefix("10.244.2."), "\(a) \(b) \(c)")

        // Calico's pod side: /32 and the default route via 169.254.1.1; the host side cali* in the node.
        let addr = try cluster.exec("default/a", ["ip", "-o", "-4", "addr", "show", "dev", "eth0"]).out
        XCTAssertTrue(addr.contains("inet \(a[0])/32"), addr)
        XCTAssertTrue(try cluster.exec("default/a", ["ip", "route"]).out.contains("default via 169.254.1.1"))
        let hostRoutes = try cluster.exec("node-1", ["ip", "route"]).out
        XCTAssertTrue(hostRoutes.contains("\(a[0]) dev cali"), hostRoutes)
        for (from, to) in [("default/a", b[0]), ("default/a", c[0]), ("other/c", a[0])] {
            let ping = try cluster.exec(from, ["ping", "-c1", "-W2", to])
            XCTAssertEqual(ping.status, 0, "\(from) -> \(to): \(ping.out)\(ping.err)")
        }
        // The plugin's annotations and the kubelet's status are both on the Pod.
        let pod = try kubectlJSON(cluster, ["get", "pod", "a"])
        XCTAssertEqual(pod["metadata"]?["annotations"]?["cni.projectcalico.org/podIP"]?.stringValue, a[0] + "/32")
        XCTAssertEqual(pod["status"]?["podIP"]?.stringValue, a[0])

        // The host port went to portmap as runtimeConfig.portMappings (the chain's second plugin).
        let dnat = try cluster.exec("node-1", ["iptables-save", "-t", "nat"]).out
        XCTAssertTrue(dnat.contains("--dport 8080 -j DNAT --to-destination \(a[0]):80"), dnat)

        try cluster.podDel(name: "b")
        XCTAssertFalse(try cluster.exec("node-1", ["ip", "route"]).out.contains(b[0] + " "))
        try cluster.podDel(name: "a")
        XCTAssertFalse(try cluster.exec("node-1", ["iptables-save", "-t", "nat"]).out.contains("--dport 8080"))
        let store = try FileManager.default.contentsOfDirectory(atPath: cluster.dataDir + "/nodes/node-1/ipam/k8s-pod-network")
        XCTAssertFalse(store.contains(b[0]))
        XCTAssertFalse(store.contains(a[0]))
    }

    func testCalicoIPAMBlocksPerNode() throws {
        let cluster = try DevClusterDriver.up(nodes: 2, ipam: "calico", staticRoutes: true)
        defer { cluster.down() }
        let a = try cluster.podAdd(node: "node-1", name: "a")
        let b = try cluster.podAdd(node: "node-2", name: "b")
        let a2 = try cluster.podAdd(node: "node-1", name: "a2")
        let all = [a[0], b[0], a2[0]]
        XCTAssertEqual(Set(all).count, 3)
        XCTAssertTrue(all.allSatisfy { $0.hasPrefix("192.168.") }, "\(all)")
        // Same node, and across nodes through the per-block static routes.
        for to in [a2[0], b[0]] {
            let ping = try cluster.exec("default/a", ["ping", "-c1", "-W2", to])
            XCTAssertEqual(ping.status, 0, "a -> \(to): " + ping.out + ping.err)
        }
        // One affine block per node, and the handle of each pod's container.
        let blocks = try kubectlJSON(cluster, ["get", "ipamblocks.crd.projectcalico.org"])["items"]?.arrayValue ?? []
        XCTAssertEqual(Set(blocks.compactMap { $0["spec"]?["affinity"]?.stringValue }), ["host:node-1", "host:node-2"])
        let containerID = try XCTUnwrap(cluster.pod(namespace: "default", name: "a")?["containerID"]?.stringValue)
        let handles = try kubectlJSON(cluster, ["get", "ipamhandles.crd.projectcalico.org"])["items"]?.arrayValue ?? []
        XCTAssertTrue(handles.contains { $0["spec"]?["handleID"]?.stringValue == "k8s-pod-network.\(containerID)" })

        try cluster.podDel(name: "a")
        let after = try kubectlJSON(cluster, ["get", "ipamhandles.crd.projectcalico.org"])["items"]?.arrayValue ?? []
        XCTAssertFalse(after.contains { $0["spec"]?["handleID"]?.stringValue == "k8s-pod-network.\(containerID)" })
    }
}
