import XCTest
@testable import Core

final class CtlResourceTests: XCTestCase {
    private func resources(_ yaml: String) throws -> [CtlResource] {
        try CtlDocuments.parse(yaml, source: "test.yaml").enumerated().map { try CtlResource.from($0.element, index: $0.offset + 1) }
    }

    private func assertInvalid(_ yaml: String, field: String, contains: String, line: UInt = #line) {
        XCTAssertThrowsError(try resources(yaml), line: line) { error in
            guard case CtlError.invalid(_, let f, let problem) = error else { return XCTFail("\(error)", line: line) }
            XCTAssertEqual(f, field, line: line)
            XCTAssertTrue(problem.contains(contains), "\(problem)", line: line)
        }
    }

    func testMultiDocumentYAMLMapsV3OntoStoredV1() throws {
        let rs = try resources("""
        apiVersion: projectcalico.org/v3
        kind: IPPool
        metadata:
          name: pool-a
          labels: {tier: gold}
          resourceVersion: "99"
        spec:
          cidr: 10.10.0.0/16
          blockSize: 24
          natOutgoing: true
        ---
        # a comment-only document is skipped
        ---
        apiVersion: projectcalico.org/v3
        kind: NetworkPolicy
        metadata: {name: allow-web}
        spec:
          selector: app == 'web'
          ingress:
          - action: Allow
            protocol: TCP
            destination: {ports: [80, "8000:8080", http]}
        """)
        XCTAssertEqual(rs.map(\.label), ["IPPool pool-a", "NetworkPolicy default/allow-web"])
        let pool = rs[0].body
        XCTAssertEqual(pool["apiVersion"], .string("crd.projectcalico.org/v1"))
        XCTAssertEqual(pool["metadata"]?["labels"]?["tier"], .string("gold"))
        XCTAssertNil(pool["metadata"]?["resourceVersion"], "server-owned metadata is not sent")
        XCTAssertEqual(pool["spec"]?["blockSize"], .int(24))
        XCTAssertEqual(pool["spec"]?["natOutgoing"], .bool(true))
        XCTAssertEqual(rs[1].namespace, "default")
        XCTAssertEqual(rs[1].body["spec"]?["ingress"]?.arrayValue?.first?["destination"]?["ports"],
                       .array([.int(80), .string("8000:8080"), .string("http")]))
    }

    func testJSONListAndQuotedScalars() throws {
        let rs = try resources("""
        {"apiVersion": "v1", "kind": "List", "items": [
          {"apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkSet", "metadata": {"name": "blocked"},
           "spec": {"nets": ["198.51.100.0/24"]}},
          {"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer", "metadata": {"name": "rack1-tor"},
           "spec": {"peerIP": "192.0.2.1", "asNumber": 64567, "nodeSelector": "rack == '1'"}}
        ]}
        """)
        XCTAssertEqual(rs.map(\.kind), [.globalNetworkSet, .bgpPeer])
        let quoted = try CtlDocuments.parse("a: '80'\nb: 80\nc: yes\nd: 'true'\n", source: "t")
        XCTAssertEqual(quoted, [.object(["a": .string("80"), "b": .int(80), "c": .bool(true), "d": .string("true")])])
    }

    func testCalicoNodeBecomesAnnotationPatch() throws {
        let rs = try resources("""
        apiVersion: projectcalico.org/v3
        kind: Node
        metadata: {name: node-1}
        spec:
          bgp: {ipv4Address: 10.0.0.1/24, asNumber: 64513, routeReflectorClusterID: 224.0.0.1}
        """)
        let a = rs[0].body["metadata"]?["annotations"]
        XCTAssertEqual(a?["projectcalico.org/IPv4Address"], .string("10.0.0.1/24"))
        XCTAssertEqual(a?["projectcalico.org/ASNumber"], .string("64513"))
        XCTAssertEqual(a?["projectcalico.org/RouteReflectorClusterID"], .string("224.0.0.1"))
        XCTAssertEqual(a?["projectcalico.org/IPv6Address"], .null, "absent fields are cleared")
    }

    func testValidationNamesTheField() {
        let pool = "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec:\n"
        assertInvalid(pool + "  cidr: 10.0.0.300/16\n", field: "spec.cidr", contains: "not a CIDR")
        assertInvalid(pool + "  cidr: 10.0.0.0/16\n  blockSize: 34\n", field: "spec.blockSize", contains: "outside 20-32")
        assertInvalid(pool + "  cidr: 10.0.0.0/28\n  blockSize: 26\n", field: "spec.blockSize", contains: "do not fit")
        assertInvalid(pool + "  cidr: 10.0.0.0/16\n  ipipMode: sometimes\n", field: "spec.ipipMode", contains: "not one of Never, Always, CrossSubnet")
        assertInvalid(pool + "  cidr: 10.0.0.0/16\n  nodeSelector: \"rack == 'a' &&\"\n", field: "spec.nodeSelector", contains: "at 14")
        assertInvalid(pool + "  blockSize: 26\n", field: "spec.cidr", contains: "is required")

        let peer = "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: p}\nspec:\n"
        assertInvalid(peer + "  peerIP: 192.0.2.1\n  asNumber: 0\n", field: "spec.asNumber", contains: "not an AS number")
        assertInvalid(peer + "  peerIP: 192.0.2.1\n  asNumber: 4294967296\n", field: "spec.asNumber", contains: "not an AS number")
        assertInvalid(peer + "  peerIP: 192.0.2\n  asNumber: 64512\n", field: "spec.peerIP", contains: "not an IP address")
        assertInvalid(peer + "  peerIP: 192.0.2.1\n", field: "spec.asNumber", contains: "required with peerIP")

        let policy = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: p}\nspec:\n"
        assertInvalid(policy + "  selector: has(app\n", field: "spec.selector", contains: "expected ')' at 7")
        assertInvalid(policy + "  ingress:\n  - action: Accept\n", field: "spec.ingress[0].action", contains: "not one of Allow, Deny, Log, Pass")
        assertInvalid(policy + "  ingress:\n  - {}\n", field: "spec.ingress[0].action", contains: "is required")
        assertInvalid(policy + "  egress:\n  - action: Allow\n    protocol: TCP\n    destination: {ports: [70000]}\n",
                      field: "spec.egress[0].destination.ports[0]", contains: "not a port")
        assertInvalid(policy + "  egress:\n  - action: Allow\n    protocol: TCP\n    destination: {ports: ['90:80']}\n",
                      field: "spec.egress[0].destination.ports[0]", contains: "not a port range")
        assertInvalid(policy + "  egress:\n  - action: Allow\n    destination: {ports: [80]}\n",
                      field: "spec.egress[0].destination.ports", contains: "protocol to be TCP, UDP or SCTP")
        assertInvalid(policy + "  egress:\n  - action: Allow\n    protocol: QUIC\n", field: "spec.egress[0].protocol", contains: "not a protocol")
        assertInvalid(policy + "  ingress:\n  - action: Deny\n    source: {nets: [10.0.0.0/8, 10.0.0.0/33]}\n",
                      field: "spec.ingress[0].source.nets[1]", contains: "not a CIDR")
        assertInvalid(policy + "  types: [Ingress, Sideways]\n", field: "spec.types[1]", contains: "not one of Ingress, Egress")
        assertInvalid(policy + "  doNotTrack: true\n", field: "spec.applyOnForward", contains: "must be true")

        assertInvalid("apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec: {node: n1}\n",
                      field: "spec.interfaceName", contains: "required when expectedIPs is empty")
        assertInvalid("apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata: {name: Bad_Name}\nspec: {}\n",
                      field: "metadata.name", contains: "not a valid name")
        assertInvalid("apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {listenPort: 0}\n",
                      field: "spec.listenPort", contains: "not a port")
        assertInvalid("apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec: {logSeverityScreen: Loud}\n",
                      field: "spec.logSeverityScreen", contains: "not one of")
        assertInvalid("apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: n}\nspec: {bgp: {ipv4Address: fd00::1/64}}\n",
                      field: "spec.bgp.ipv4Address", contains: "not an IPv4")
    }

    func testUnsupportedDocumentsAndSyntax() {
        XCTAssertThrowsError(try resources("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")) { error in
            XCTAssertTrue("\(error)".contains("use kubectl for Kubernetes resources"), "\(error)")
        }
        XCTAssertThrowsError(try resources("apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t}\n")) { error in
            XCTAssertTrue("\(error)".hasPrefix("document 1: kind \"Tier\""), "\(error)")
        }
        XCTAssertThrowsError(try CtlDocuments.parse("a: b: c\n", source: "bad.yaml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("bad.yaml is not valid YAML or JSON"), "\(error)")
        }
    }

    func testWorkloadEndpointTable() throws {
        let pod = try Pod.decode(from: JSONValue(data: Data("""
        {"metadata": {"name": "kube-dns-v20-jhk10", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
         "spec": {"nodeName": "kubernetes-minion-group-tbmi", "containers": [{"name": "dns"}]},
         "status": {"podIP": "10.244.1.5"}}
        """.utf8)))
        let hostNet = try Pod.decode(from: JSONValue(data: Data("""
        {"metadata": {"name": "proxy", "namespace": "kube-system"}, "spec": {"nodeName": "n", "hostNetwork": true, "containers": []}}
        """.utf8)))
        let endpoints = CtlWorkloadEndpoints.endpoints([pod, hostNet])
        XCTAssertEqual(CtlWorkloadEndpoints.table(endpoints, wide: false), [
            ["HOSTNAME", "ORCHESTRATOR", "WORKLOAD", "NAME"],
            ["kubernetes-minion-group-tbmi", "k8s", "kube-system.kube-dns-v20-jhk10", "eth0"],
        ])
        let wide = CtlWorkloadEndpoints.table(endpoints, wide: true)
        XCTAssertEqual(wide[1][4], "10.244.1.5/32")
        XCTAssertTrue(wide[1][5].hasPrefix("cali"))
        XCTAssertEqual(wide[1][6], "kns.kube-system")
        let object = CtlWorkloadEndpoints.object(endpoints[0])
        XCTAssertEqual(object["metadata"]?["name"], .string("kubernetes--minion--group--tbmi-k8s-kube--dns--v20--jhk10-eth0"))
        XCTAssertEqual(object["spec"]?["ipNetworks"], .array([.string("10.244.1.5/32")]))
    }
}
