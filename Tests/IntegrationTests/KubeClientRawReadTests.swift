import Core
import Foundation
import IPAM
import XCTest
@testable import CNI

/// getJSON and applyMergePatch, which the CNI plugin uses instead of typed reads and patches:
/// the same object and effect as get and patch, against the dev server (KubeClient) and the
/// protocol's default (InMemoryKubeAPI).
final class KubeClientRawReadTests: XCTestCase {
    private var server: DevServer!

    override func setUpWithError() throws { server = try DevServer.start() }

    override func tearDown() {
        server?.stop()
        if let server { try? FileManager.default.removeItem(atPath: server.dataDir) }
    }

    private func exercise(_ api: any KubeAPI, tag: String) async throws {
        let nodeName = "raw-\(tag)-node"
        _ = try await api.create(K8sNode(metadata: ObjectMeta(name: nodeName), spec: K8sNodeSpec(podCIDR: "10.9.1.0/24", podCIDRs: ["10.9.1.0/24", "fd00:9::/64"])))
        _ = try await api.create(K8sNode(metadata: ObjectMeta(name: nodeName + "-old"), spec: K8sNodeSpec(podCIDR: "10.9.2.0/24")))
        let node = try await api.getJSON(K8sNode.self, name: nodeName, namespace: nil)
        XCTAssertEqual(node["metadata"]?["name"]?.stringValue, nodeName)
        XCTAssertEqual(K8sNode.podCIDRs(fromJSON: node), ["10.9.1.0/24", "fd00:9::/64"])
        let old = try await api.getJSON(K8sNode.self, name: nodeName + "-old", namespace: nil)
        XCTAssertEqual(K8sNode.podCIDRs(fromJSON: old), ["10.9.2.0/24"])

        let podName = "raw-\(tag)-pod"
        _ = try await api.create(Pod(metadata: ObjectMeta(name: podName, namespace: "default", annotations: ["keep": "me"])))
        try await api.applyMergePatch(Pod.self, name: podName, namespace: "default",
                                      mergePatch: PodAnnotations.addPatch(addresses: [InetPrefix("10.9.1.7/32")!], containerID: "c-\(tag)"))
        let pod = try await api.getJSON(Pod.self, name: podName, namespace: "default")
        XCTAssertEqual(PodAnnotations.of(pod), ["keep": "me", PodAnnotations.podIP: "10.9.1.7/32",
                                                PodAnnotations.podIPs: "10.9.1.7/32", PodAnnotations.containerID: "c-\(tag)"])
        let typed = try await api.get(Pod.self, name: podName, namespace: "default")
        XCTAssertEqual(typed.metadata.annotations, PodAnnotations.of(pod))

        do {
            _ = try await api.getJSON(Pod.self, name: "raw-missing", namespace: "default")
            XCTFail("a missing object must be notFound")
        } catch KubeError.notFound {}
        do {
            try await api.applyMergePatch(Pod.self, name: "raw-missing", namespace: "default", mergePatch: PodAnnotations.delPatch())
            XCTFail("patching a missing object must be notFound")
        } catch KubeError.notFound {}
    }

    func testKubeClientAgainstTheDevServer() async throws {
        let api = try KubeClient(connection: try DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig]))
        try await exercise(api, tag: "client")
    }

    func testProtocolDefaultsInMemory() async throws {
        try await exercise(InMemoryKubeAPI(), tag: "memory")
    }
}
