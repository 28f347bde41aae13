import XCTest
@testable import Core

final class ResourceTests: XCTestCase {
    private func json(_ s: String) throws -> JSONValue { try JSONValue(data: Data(s.utf8)) }

    private let podJSON = """
    {"apiVersion":"v1","kind":"Pod",
     "metadata":{"name":"web","namespace":"prod","resourceVersion":"42","uid":"u1","labels":{"app":"web"},
                 "managedFields":[{"manager":"kubectl"}],"ownerReferences":[{"kind":"ReplicaSet","name":"web-1"}]},
     "spec":{"nodeName":"n1","serviceAccountName":"web-sa","restartPolicy":"Always",
             "securityContext":{"runAsUser":1000,"future":{"deep":true}},
             "containers":[{"name":"app","image":"nginx","ports":[{"name":"http","containerPort":80,"protocol":"TCP"}]}]},
     "status":{"phase":"Running","podIP":"10.0.0.5","podIPs":[{"ip":"10.0.0.5"},{"ip":"fd00::5"}],
               "qosClass":"BestEffort","conditions":[{"type":"Ready","status":"True"}]},
     "futureTopLevel":{"x":1}}
    """

    func testPodDecodesTypedFields() throws {
        let pod = try Pod.decode(from: Data(podJSON.utf8))
        XCTAssertEqual(pod.metadata.name, "web")
        XCTAssertEqual(pod.metadata.namespace, "prod")
        XCTAssertEqual(pod.metadata.resourceVersion, "42")
        XCTAssertEqual(pod.spec.nodeName, "n1")
        XCTAssertNil(pod.spec.hostNetwork)
        XCTAssertEqual(pod.spec.serviceAccountName, "web-sa")
        XCTAssertEqual(pod.spec.containers.first?.ports?.first, ContainerPort(name: "http", containerPort: 80, protocol: "TCP"))
        XCTAssertEqual(pod.status?.phase, "Running")
        XCTAssertEqual(pod.status?.podIPs?.map(\.ip), ["10.0.0.5", "fd00::5"])
    }

    func testUnknownFieldsAtEveryDepthSurviveAWrite() throws {
        var pod = try Pod.decode(from: Data(podJSON.utf8))
        pod.spec.nodeName = "n2"
        pod.metadata.labels?["tier"] = "front"
        pod.status?.podIP = "10.0.0.6"
        let out = try pod.encodedForWrite()
        // The change.
        XCTAssertEqual(out["spec"]?["nodeName"], .string("n2"))
        XCTAssertEqual(out["metadata"]?["labels"]?["tier"], .string("front"))
        XCTAssertEqual(out["status"]?["podIP"], .string("10.0.0.6"))
        // The extras, from the top level down.
        XCTAssertEqual(out["futureTopLevel"], try json(#"{"x":1}"#))
        XCTAssertEqual(out["metadata"]?["managedFields"], try json(#"[{"manager":"kubectl"}]"#))
        XCTAssertEqual(out["metadata"]?["ownerReferences"]?.arrayValue?.count, 1)
        XCTAssertEqual(out["spec"]?["restartPolicy"], .string("Always"))
        XCTAssertEqual(out["spec"]?["securityContext"]?["future"]?["deep"], .bool(true))
        XCTAssertEqual(out["status"]?["qosClass"], .string("BestEffort"))
        XCTAssertEqual(out["status"]?["conditions"]?.arrayValue?.count, 1)
        XCTAssertEqual(out["apiVersion"], .string("v1"))
        XCTAssertEqual(out["kind"], .string("Pod"))
        // Typed fields the server sent come back unchanged.
        XCTAssertEqual(out["spec"]?["containers"]?.arrayValue?.first?["ports"]?.arrayValue?.first?["containerPort"], .int(80))
        XCTAssertEqual(out["metadata"]?["resourceVersion"], .string("42"))
    }

    func testBookmarkShapedObjectsDecode() throws {
        let bookmark = try json(#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"","resourceVersion":"77"}}"#)
        XCTAssertEqual(try Pod.decode(from: bookmark).metadata.resourceVersion, "77")
        let set = try GlobalNetworkSet.decode(from: bookmark)
        XCTAssertEqual(set.metadata.resourceVersion, "77")
        XCTAssertNil(set.spec.nets)
        XCTAssertThrowsError(try IPPool.decode(from: bookmark), "an IPPool needs a cidr")
    }

    func testNodeNamespaceServiceAccountSecret() throws {
        let node = try K8sNode.decode(from: Data("""
        {"metadata":{"name":"n1","annotations":{"projectcalico.org/IPv4Address":"10.0.0.1/24"}},
         "spec":{"podCIDR":"10.244.1.0/24","podCIDRs":["10.244.1.0/24","fd00:1::/64"],"taints":[]},
         "status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"},{"type":"Hostname","address":"n1"}],
                   "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}],"nodeInfo":{"kubeletVersion":"v1.30"}}}
        """.utf8))
        XCTAssertEqual(node.spec?.podCIDRs, ["10.244.1.0/24", "fd00:1::/64"])
        XCTAssertEqual(node.status?.addresses?.first, K8sNodeStatus.Address(type: "InternalIP", address: "10.0.0.1"))
        XCTAssertEqual(node.status?.conditions?.first?.reason, "KubeletReady")
        XCTAssertEqual(try node.encodedForWrite()["status"]?["nodeInfo"]?["kubeletVersion"], .string("v1.30"))

        let ns = try Namespace.decode(from: Data(#"{"metadata":{"name":"prod","labels":{"env":"p"}},"spec":{"finalizers":["kubernetes"]}}"#.utf8))
        XCTAssertEqual(ns.metadata.labels, ["env": "p"])
        XCTAssertEqual(try ns.encodedForWrite()["spec"]?["finalizers"]?.arrayValue?.count, 1)

        let sa = try ServiceAccount.decode(from: Data(#"{"metadata":{"name":"sa","namespace":"prod","labels":{"role":"db"}}}"#.utf8))
        XCTAssertEqual(sa.metadata.labels?["role"], "db")

        let secret = try Secret.decode(from: Data(#"{"metadata":{"name":"bgp","namespace":"kube-system"},"type":"Opaque","data":{"pw":"czNjcjN0"}}"#.utf8))
        XCTAssertEqual(secret.decodedValue("pw"), "s3cr3t")
        XCTAssertNil(secret.decodedValue("missing"))
    }

    func testKubernetesNetworkPolicy() throws {
        let np = try K8sNetworkPolicy.decode(from: Data("""
        {"metadata":{"name":"allow","namespace":"prod"},
         "spec":{"podSelector":{"matchLabels":{"app":"db"},"matchExpressions":[{"key":"tier","operator":"In","values":["a","b"]}]},
                 "policyTypes":["Ingress","Egress"],
                 "ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"web"}},"namespaceSelector":{}},
                                     {"ipBlock":{"cidr":"10.0.0.0/8","except":["10.1.0.0/16"]}}],
                             "ports":[{"protocol":"TCP","port":5432},{"port":"metrics"},{"protocol":"UDP","port":1000,"endPort":2000}]}],
                 "egress":[{}]}}
        """.utf8))
        let spec = np.spec
        XCTAssertEqual(spec.podSelector.matchLabels, ["app": "db"])
        XCTAssertEqual(spec.podSelector.matchExpressions?.first, LabelSelector.Requirement(key: "tier", operator: "In", values: ["a", "b"]))
        XCTAssertEqual(spec.policyTypes, ["Ingress", "Egress"])
        let rule = try XCTUnwrap(spec.ingress?.first)
        XCTAssertEqual(rule.from?.first?.namespaceSelector, LabelSelector(), "empty selector: all namespaces")
        XCTAssertEqual(rule.from?.last?.ipBlock, .init(cidr: "10.0.0.0/8", except: ["10.1.0.0/16"]))
        XCTAssertEqual(rule.ports?.map(\.port), [.int(5432), .string("metrics"), .int(1000)])
        XCTAssertEqual(rule.ports?.last?.endPort, 2000)
        XCTAssertEqual(spec.egress?.count, 1)
        XCTAssertNil(spec.egress?.first?.to, "no peers: everywhere")
        let out = try np.encodedForWrite()
        XCTAssertEqual(out["spec"]?["ingress"]?.arrayValue?.first?["ports"]?.arrayValue?[1]["port"], .string("metrics"))
        XCTAssertEqual(out["apiVersion"], .string("networking.k8s.io/v1"))
    }
}
