import Core
import Foundation
import XCTest

/// deploy/*.yaml: the real kubectl parses and maps every object, the CRDs cover every Calico
/// kind we use, and every environment variable set for our image is one the binary reads.
final class DeployManifestTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let manifests = ["rbac-kdd.yaml", "crds.yaml", "calico.yaml", "policy-only.yaml", "canal.yaml"]
    static let image = "calico-node-swift:latest"

    private var tmp = ""

    override func setUpWithError() throws {
        tmp = NSTemporaryDirectory() + "deployf-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: tmp) }

    private func documents(_ name: String) throws -> [JSONValue] {
        let text = try String(contentsOf: Self.root.appendingPathComponent("deploy/" + name), encoding: .utf8)
        return try CtlDocuments.parse(text, source: name)
    }

    /// Discovery for the groups the manifests use, so that `kubectl create --dry-run=client`
    /// can map each kind (the development API server serves only calico-node's own kinds).
    static func discovery(_ path: String) -> JSONValue? {
        func resource(_ name: String, _ kind: String, _ namespaced: Bool) -> JSONValue {
            .object(["name": .string(name), "singularName": .string(kind.lowercased()), "namespaced": .bool(namespaced), "kind": .string(kind),
                     "verbs": .array(["create", "delete", "get", "list", "patch", "update", "watch"].map(JSONValue.string))])
        }
        func list(_ gv: String, _ rs: [JSONValue]) -> JSONValue {
            .object(["kind": .string("APIResourceList"), "apiVersion": .string("v1"), "groupVersion": .string(gv), "resources": .array(rs)])
        }
        let groups = ["apps", "rbac.authorization.k8s.io", "apiextensions.k8s.io"]
        switch path {
        case "/api":
            return .object(["kind": .string("APIVersions"), "versions": .array([.string("v1")]),
                            "serverAddressByClientCIDRs": .array([.object(["clientCIDR": .string("0.0.0.0/0"), "serverAddress": .string("127.0.0.1")])])])
        case "/apis":
            return .object(["kind": .string("APIGroupList"), "apiVersion": .string("v1"), "groups": .array(groups.map { g in
                let v = JSONValue.object(["groupVersion": .string("\(g)/v1"), "version": .string("v1")])
                return .object(["name": .string(g), "versions": .array([v]), "preferredVersion": v])
            })])
        case "/api/v1":
            return list("v1", [resource("serviceaccounts", "ServiceAccount", true), resource("configmaps", "ConfigMap", true),
                               resource("namespaces", "Namespace", false)])
        case "/apis/apps/v1":
            return list("apps/v1", [resource("daemonsets", "DaemonSet", true), resource("deployments", "Deployment", true)])
        case "/apis/rbac.authorization.k8s.io/v1":
            return list("rbac.authorization.k8s.io/v1", [resource("clusterroles", "ClusterRole", false),
                                                        resource("clusterrolebindings", "ClusterRoleBinding", false)])
        case "/apis/apiextensions.k8s.io/v1":
            return list("apiextensions.k8s.io/v1", [resource("customresourcedefinitions", "CustomResourceDefinition", false)])
        default:
            return nil
        }
    }

    func testKubectlParsesEveryManifest() async throws {
        let server = try await ObservabilityHTTPServer.start(at: ObservabilityAddress(host: "127.0.0.1", port: 0)) { _, path in
            guard let doc = Self.discovery(path), let body = try? doc.data() else { return .text(404, "not found\n") }
            return .json(200, Array(body))
        }
        defer { Task { await server.stop() } }
        let kubeconfig = tmp + "/kubeconfig"
        try """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "http://127.0.0.1:\(server.port)"}}]
        users: [{name: u, user: {}}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        current-context: x
        """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = tmp
        env.removeValue(forKey: "KUBECONFIG")

        for name in Self.manifests {
            let path = Self.root.appendingPathComponent("deploy/" + name).path
            let r = try DevServer.run("/usr/bin/kubectl", ["--kubeconfig", kubeconfig, "create", "--dry-run=client", "--validate=false",
                                                           "-o", "name", "-f", path], environment: env)
            XCTAssertEqual(r.status, 0, "\(name): \(r.err)")
            let expected = try documents(name).map { doc -> String in
                let kind = doc["kind"]?.stringValue?.lowercased() ?? ""
                let group = (doc["apiVersion"]?.stringValue ?? "").split(separator: "/").dropLast().first.map { ".\($0)" } ?? ""
                return "\(kind)\(group)/\(doc["metadata"]?["name"]?.stringValue ?? "")"
            }
            XCTAssertEqual(r.out.split(separator: "\n").map(String.init), expected, name)
        }
    }

    func testCRDsCoverEveryCalicoKind() throws {
        let crds = try documents("crds.yaml")
        let names = Set(crds.compactMap { $0["metadata"]?["name"]?.stringValue })
        let wanted = Set(ResourceKind.all.filter { $0.group == ResourceKind.calicoGroup }.map { "\($0.plural).\($0.group)" })
        XCTAssertEqual(names, wanted)
        for crd in crds {
            let kind = ResourceKind.all.first { "\($0.plural).\($0.group)" == crd["metadata"]?["name"]?.stringValue }
            XCTAssertEqual(crd["spec"]?["names"]?["kind"]?.stringValue, kind?.kind)
            XCTAssertEqual(crd["spec"]?["scope"]?.stringValue, kind?.namespaced == true ? "Namespaced" : "Cluster")
        }
    }

    /// Every Swift source under Sources/, concatenated.
    static func sources() throws -> String {
        let dir = root.appendingPathComponent("Sources")
        var text = ""
        let e = FileManager.default.enumerator(atPath: dir.path)
        while let f = e?.nextObject() as? String {
            if f.hasSuffix(".swift") { text += (try? String(contentsOfFile: dir.path + "/" + f, encoding: .utf8)) ?? "" }
        }
        return text
    }

    func testEveryEnvironmentVariableIsOneTheBinaryReads() throws {
        let sources = try Self.sources()
        let felix = try String(contentsOf: Self.root.appendingPathComponent("Sources/Core/Config/FelixConfigLayering.swift"), encoding: .utf8)
        var checked = 0
        for name in Self.manifests {
            for doc in try documents(name) where doc["kind"]?.stringValue == "DaemonSet" {
                let spec = doc["spec"]?["template"]?["spec"]
                let containers = (spec?["initContainers"]?.arrayValue ?? []) + (spec?["containers"]?.arrayValue ?? [])
                for c in containers where c["image"]?.stringValue == Self.image {
                    for variable in c["env"]?.arrayValue ?? [] {
                        guard let v = variable["name"]?.stringValue else { continue }
                        checked += 1
                        if v.hasPrefix("FELIX_") {
                            let key = String(v.dropFirst(6)).lowercased().replacingOccurrences(of: "_", with: "")
                            XCTAssertTrue(felix.contains("\"\(key)\""), "\(name): \(v) is not a Felix setting calico-node reads")
                        } else {
                            XCTAssertTrue(sources.contains("\"\(v)\""), "\(name): container \(c["name"]?.stringValue ?? "") sets \(v), which no source reads")
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 30)
    }
}
