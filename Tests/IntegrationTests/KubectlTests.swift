import Foundation
import XCTest

/// Drives the real kubectl (/usr/bin/kubectl) against `calico-devcluster apiserver`.
final class KubectlTests: XCTestCase {
    private var server: DevServer!
    private var yamlDir: String!

    override func setUpWithError() throws {
        server = try DevServer.start()
        yamlDir = server.dataDir + "/yaml"
        try FileManager.default.createDirectory(atPath: yamlDir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        server?.stop()
        if let dir = server?.dataDir { try? FileManager.default.removeItem(atPath: dir) }
    }

    @discardableResult
    private func ok(_ args: String..., file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try server.kubectl(args)
        XCTAssertEqual(r.status, 0, "kubectl \(args.joined(separator: " ")): \(r.err)", file: file, line: line)
        return r.out
    }

    private func yaml(_ name: String, _ text: String) throws -> String {
        let path = yamlDir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func createSampleObjects() throws {
        let files = [
            try yaml("ns.yaml", """
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: demo
                """),
            try yaml("pod.yaml", """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: web
                  namespace: demo
                  labels: {app: web}
                spec:
                  nodeName: node-1
                  containers: [{name: c, image: busybox}]
                """),
            try yaml("netpol.yaml", """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: allow-web, namespace: demo}
                spec:
                  podSelector: {matchLabels: {app: web}}
                  ingress: [{ports: [{port: 80, protocol: TCP}]}]
                """),
            try yaml("peer.yaml", """
                apiVersion: crd.projectcalico.org/v1
                kind: BGPPeer
                metadata: {name: rack1-tor}
                spec: {peerIP: 192.0.2.1, asNumber: 64567}
                """),
        ]
        for f in files { try ok("create", "-f", f) }
    }

    func testGetCreateLabelDelete() throws {
        let nodes = try server.kubectl(["get", "nodes"])
        XCTAssertEqual(nodes.status, 0, nodes.err)
        XCTAssertTrue(nodes.err.contains("No resources found"), nodes.err)
        XCTAssertTrue(try ok("get", "namespaces").contains("kube-system"))

        try createSampleObjects()
        // kubectl's typed clients send protobuf; the server decodes it for these simple kinds.
        try ok("create", "namespace", "typed")
        try ok("create", "serviceaccount", "robot", "-n", "typed")
        try ok("create", "secret", "generic", "creds", "-n", "typed", "--from-literal=user=admin")
        XCTAssertEqual(try ok("get", "secret", "creds", "-n", "typed", "-o", "jsonpath={.data.user}"), "YWRtaW4=")
        let podYAML = try ok("get", "pod", "web", "-n", "demo", "-o", "yaml")
        XCTAssertTrue(podYAML.contains("nodeName: node-1"), podYAML)
        XCTAssertTrue(podYAML.contains("uid:"), podYAML)
        XCTAssertTrue(try ok("get", "networkpolicies.networking.k8s.io", "-n", "demo", "-o", "yaml").contains("allow-web"))
        let peer = try ok("get", "bgppeers.crd.projectcalico.org", "rack1-tor", "-o", "yaml")
        XCTAssertTrue(peer.contains("peerIP: 192.0.2.1") && peer.contains("apiVersion: crd.projectcalico.org/v1"), peer)

        let duplicate = try server.kubectl(["create", "-f", yamlDir + "/peer.yaml"])
        XCTAssertNotEqual(duplicate.status, 0)
        XCTAssertTrue(duplicate.err.contains("AlreadyExists"), duplicate.err)

        try ok("label", "pod", "web", "-n", "demo", "tier=frontend")
        XCTAssertTrue(try ok("get", "pods", "-n", "demo", "--show-labels").contains("tier=frontend"))
        XCTAssertEqual(try ok("get", "pods", "-A", "-l", "app in (web,db),tier!=back", "-o", "name"), "pod/web\n")
        XCTAssertEqual(try ok("get", "pods", "-A", "-l", "!tier", "-o", "name"), "")
        XCTAssertEqual(try ok("get", "pods", "-A", "--field-selector", "spec.nodeName=node-1", "-o", "name"), "pod/web\n")
        let table = try ok("get", "pods", "-n", "demo")
        XCTAssertTrue(table.contains("NAME") && table.contains("AGE") && table.contains("node-1"), table)

        try ok("delete", "pod", "web", "-n", "demo")
        let gone = try server.kubectl(["get", "pod", "web", "-n", "demo"])
        XCTAssertNotEqual(gone.status, 0)
        XCTAssertTrue(gone.err.contains("NotFound"), gone.err)
        try ok("delete", "-f", yamlDir + "/peer.yaml")
        XCTAssertTrue(try server.kubectl(["get", "bgppeers", "rack1-tor"]).err.contains("NotFound"))
    }

    /// `kubectl create -f` of a namespace or pod.
    private func createNamespace(_ name: String) throws {
        try ok("create", "-f", try yaml("ns-\(name).yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: \(name)}\n"))
    }

    private func createPod(_ name: String, namespace: String) throws {
        try ok("create", "-f", try yaml("pod-\(name).yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name), namespace: \(namespace)}
            spec: {containers: [{name: c, image: busybox}]}
            """))
    }

    func testWatchSeesChanges() throws {
        try createNamespace("watched")
        let watch = try server.kubectlBackground(["get", "pods", "-n", "watched", "--watch"])
        defer { watch.stop() }
        // Give kubectl time to list and start its watch (it prints nothing for an empty list).
        usleep(1_500_000)
        XCTAssertTrue(watch.isRunning, watch.output())
        try createPod("w1", namespace: "watched")
        XCTAssertTrue(watch.waitForOutput { $0.contains("w1") }, watch.output())
        try ok("delete", "pod", "w1", "-n", "watched", "--wait=false")
        XCTAssertTrue(watch.waitForOutput { $0.components(separatedBy: "w1").count >= 3 }, watch.output())
    }

    func testRestartKeepsObjects() throws {
        try createSampleObjects()
        let before = try ok("get", "bgppeer", "rack1-tor", "-o", "jsonpath={.metadata.resourceVersion}")
        try server.restart()
        XCTAssertTrue(try ok("get", "pods", "-n", "demo", "-o", "name").contains("pod/web"))
        XCTAssertTrue(try ok("get", "bgppeers", "-o", "name").contains("rack1-tor"))
        XCTAssertEqual(try ok("get", "bgppeer", "rack1-tor", "-o", "jsonpath={.metadata.resourceVersion}"), before)
        try createNamespace("after-restart")
        let after = try ok("get", "namespace", "after-restart", "-o", "jsonpath={.metadata.resourceVersion}")
        XCTAssertGreaterThan(Int(after) ?? 0, Int(before) ?? Int.max, "resourceVersion keeps increasing across restarts")
    }

    func testClientCertificateAndUnauthenticated() throws {
        let r = try server.kubectl(["--kubeconfig", server.certKubeconfig, "get", "namespaces", "-o", "name"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("namespace/default"))
        let anon = try DevServer.run("/usr/bin/curl", ["-sS", "--cacert", server.caPath, "-w", "\n%{http_code}", server.url + "/api/v1/pods"])
        XCTAssertTrue(anon.out.hasSuffix("401"), anon.out)
        XCTAssertTrue(anon.out.contains("\"kind\":\"Status\"") && anon.out.contains("Unauthorized"), anon.out)
        XCTAssertFalse(try String(contentsOfFile: server.logPath, encoding: .utf8).contains(try server.token()), "the token must never be logged")
    }

    func testFaultInjection() throws {
        try server.failNext(1, code: 503)
        let failed = try server.curl("/api/v1/namespaces")
        XCTAssertEqual(failed.code, 503)
        XCTAssertTrue(failed.body.contains("\"status\":\"Failure\""), failed.body)
        XCTAssertEqual(try server.curl("/api/v1/namespaces").code, 200)

        try server.compact()
        let expired = try server.curl("/api/v1/pods?watch=1&resourceVersion=1")
        XCTAssertTrue(expired.body.contains("\"type\":\"ERROR\"") && expired.body.contains("\"code\":410"), expired.body)

        let watch = try BackgroundProcess(executable: "/usr/bin/curl", arguments: [
            "-sS", "-N", "--cacert", server.caPath, "-H", "Authorization: Bearer \(try server.token())",
            server.url + "/api/v1/namespaces?watch=1",
        ], environment: ProcessInfo.processInfo.environment)
        defer { watch.stop() }
        XCTAssertTrue(watch.waitForOutput { $0.contains("kube-system") }, watch.output())
        try server.dropWatches()
        let deadline = Date().addingTimeInterval(5)
        while watch.isRunning && Date() < deadline { usleep(50_000) }
        XCTAssertFalse(watch.isRunning, "the watch stream is closed by drop-watches")
    }
}
