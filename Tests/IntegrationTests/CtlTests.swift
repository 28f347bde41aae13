import Core
import Foundation
import XCTest

/// `calico-node ctl` round trips against the development API server.
final class CtlTests: CtlServerTestCase {
    override class var tmpPrefix: String { "ctlf" }

    private func file(_ name: String, _ text: String) throws -> String {
        let path = tmp + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private let resources = """
    apiVersion: projectcalico.org/v3
    kind: IPPool
    metadata: {name: pool-a}
    spec: {cidr: 10.10.0.0/16, blockSize: 26, natOutgoing: true, nodeSelector: all()}
    ---
    apiVersion: projectcalico.org/v3
    kind: BGPPeer
    metadata: {name: tor}
    spec: {peerIP: 192.0.2.1, asNumber: 64567}
    ---
    apiVersion: projectcalico.org/v3
    kind: NetworkPolicy
    metadata: {name: allow-web, namespace: shop}
    spec:
      selector: app == 'web'
      ingress: [{action: Allow, protocol: TCP, destination: {ports: [80]}}]
    ---
    apiVersion: projectcalico.org/v3
    kind: BGPConfiguration
    metadata: {name: default}
    spec: {asNumber: 64512, nodeToNodeMeshEnabled: true}
    """

    func testApplyGetDeleteRoundTrip() throws {
        let path = try file("all.yaml", resources)
        let noNamespace = try ctl(["create", "-f", path])
        XCTAssertTrue(noNamespace.err.contains("NetworkPolicy shop/allow-web failed: namespace \"shop\" does not exist"), noNamespace.err)
        _ = try ctl(["delete", "-f", path])
        let ns = try server!.curl("/api/v1/namespaces", method: "POST", body: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}}"#)
        XCTAssertEqual(ns.code, 201, ns.body)
        let created = try ctl(["create", "-f", path])
        XCTAssertEqual(created.status, 0, created.err)
        XCTAssertEqual(created.out, """
        Successfully created 1 'IPPool' resource(s)
        Successfully created 1 'BGPPeer' resource(s)
        Successfully created 1 'NetworkPolicy' resource(s)
        Successfully created 1 'BGPConfiguration' resource(s)

        """)
        let again = try ctl(["create", "-f", path])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.err.contains("create IPPool pool-a failed: it already exists; use `ctl apply`"), again.err)

        // apply replaces (changed blockSize), from stdin.
        let changed = resources.replacingOccurrences(of: "blockSize: 26", with: "blockSize: 28")
        let applied = try ctl(["apply", "-f", "-"], stdin: changed)
        XCTAssertEqual(applied.status, 0, applied.err)
        XCTAssertTrue(applied.out.contains("Successfully applied 1 'IPPool' resource(s)"), applied.out)
        let pool = try ctl(["get", "ippool", "pool-a", "-o", "json"])
        XCTAssertEqual(pool.status, 0, pool.err)
        let json = try JSONValue(data: Data(pool.out.utf8))
        XCTAssertEqual(json["spec"]?["blockSize"], .int(28))
        XCTAssertEqual(json["apiVersion"], .string("projectcalico.org/v3"), "shown in calicoctl's v3 form")
        // Without a name: a list object, as calicoctl prints it, which applies back unchanged.
        let list = try ctl(["get", "ippools", "-o", "yaml"])
        XCTAssertEqual(list.status, 0, list.err)
        XCTAssertTrue(list.out.contains("kind: IPPoolList") && list.out.contains("apiVersion: projectcalico.org/v3"), list.out)
        let reapplied = try ctl(["apply", "-f", "-"], stdin: list.out)
        XCTAssertEqual(reapplied.status, 0, reapplied.err)

        let table = try ctl(["get", "networkpolicies", "-n", "shop"])
        XCTAssertTrue(table.out.contains("shop") && table.out.contains("allow-web"), table.out)
        // kubectl sees the same objects.
        let k = try server!.kubectl(["get", "bgppeers.crd.projectcalico.org", "tor", "-o", "jsonpath={.spec.peerIP}"])
        XCTAssertEqual(k.out, "192.0.2.1", k.err)

        let deleted = try ctl(["delete", "-f", path])
        XCTAssertEqual(deleted.status, 0, deleted.err)
        XCTAssertTrue(deleted.out.contains("Successfully deleted 1 'BGPPeer' resource(s)"), deleted.out)
        let gone = try ctl(["get", "ippools"])
        XCTAssertFalse(gone.out.contains("pool-a"), gone.out)
        let missing = try ctl(["delete", "-f", path])
        XCTAssertTrue(missing.err.contains("delete IPPool pool-a failed: it does not exist"), missing.err)
    }

    func testInvalidResourcesAreRejectedBeforeAnyWrite() throws {
        let bad = resources + """

        ---
        apiVersion: projectcalico.org/v3
        kind: GlobalNetworkPolicy
        metadata: {name: broken}
        spec:
          selector: role == 'db' &&
        """
        let r = try ctl(["apply", "-f", try file("bad.yaml", bad)])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("GlobalNetworkPolicy broken: spec.selector: invalid selector: expected"), r.err)
        XCTAssertTrue(r.err.contains("at 15"), r.err)
        let pools = try ctl(["get", "ippools"])
        XCTAssertFalse(pools.out.contains("pool-a"), "nothing is written when any document is invalid: \(pools.out)")

        let cidr = try ctl(["apply", "-f", "-"], stdin: "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata: {name: s}\nspec: {nets: [10.0.0.0/33]}\n")
        XCTAssertTrue(cidr.err.contains("NetworkSet default/s: spec.nets[0]: \"10.0.0.0/33\" is not a CIDR"), cidr.err)
    }

    func testNodeBGPFieldsAndWorkloadEndpoints() throws {
        for (name, body) in [
            ("/api/v1/nodes", #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1"}}"#),
            ("/api/v1/namespaces/kube-system/pods", #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"kube-dns-v20-jhk10","namespace":"kube-system","labels":{"k8s-app":"kube-dns"}},"spec":{"nodeName":"node-1","containers":[{"name":"dns","image":"dns"}]},"status":{"podIP":"10.244.1.5"}}"#),
            ("/api/v1/namespaces/kube-system/pods", #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pending","namespace":"kube-system"},"spec":{"containers":[{"name":"c","image":"c"}]}}"#),
            ("/api/v1/namespaces/kube-system/pods", #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"client","namespace":"kube-system","labels":{"app":"client"}},"spec":{"nodeName":"node-1","containers":[{"name":"c","image":"c"}]},"status":{"podIP":"10.244.1.6"}}"#),
        ] {
            let r = try server!.curl(name, method: "POST", body: body)
            XCTAssertEqual(r.code, 201, r.body)
        }
        let node = try ctl(["apply", "-f", "-"], stdin: """
        apiVersion: projectcalico.org/v3
        kind: Node
        metadata: {name: node-1}
        spec: {bgp: {ipv4Address: 10.0.0.1/24, asNumber: 64513}}
        """)
        XCTAssertEqual(node.status, 0, node.err)
        let annotations = try server!.kubectl(["get", "node", "node-1", "-o", "jsonpath={.metadata.annotations}"])
        XCTAssertTrue(annotations.out.contains("\"projectcalico.org/ASNumber\":\"64513\""), annotations.out)
        XCTAssertTrue(annotations.out.contains("\"projectcalico.org/IPv4Address\":\"10.0.0.1/24\""), annotations.out)

        let weps = try ctl(["get", "workloadendpoints"])
        XCTAssertEqual(weps.status, 0, weps.err)
        XCTAssertEqual(weps.out, """
        HOSTNAME   ORCHESTRATOR   WORKLOAD                         NAME
        node-1     k8s            kube-system.client               eth0
        node-1     k8s            kube-system.kube-dns-v20-jhk10   eth0

        """)
        let wide = try ctl(["get", "wep", "-o", "wide"])
        XCTAssertTrue(wide.out.contains("NETWORKS") && wide.out.contains("10.244.1.5/32") && wide.out.contains("kns.kube-system"), wide.out)
        let yaml = try ctl(["get", "workloadendpoints", "-o", "yaml"])
        XCTAssertTrue(yaml.out.contains("kind: WorkloadEndpoint") && yaml.out.contains("node--1-k8s-kube--dns--v20--jhk10-eth0"), yaml.out)
    }
}
