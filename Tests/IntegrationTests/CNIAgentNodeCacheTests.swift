import Core
import Foundation
import XCTest

/// The agent's watched copy of its own Node (`AgentNodeCache`), which answers the CNI plugins'
/// usePodCidr reads: served only while fresh, a changed podCIDR reaches the answers, a deleted
/// Node or a stopped server makes it stale (reads are forwarded), and through the agent's socket
/// a fresh cache answers without a request to the API server.
final class CNIAgentNodeCacheTests: XCTestCase {
    private var server: DevServer!
    private var dir = ""
    private var cache: AgentNodeCache?
    private var proxy: AgentAPIProxy?

    override func setUpWithError() throws {
        server = try DevServer.start()
        dir = "/tmp/cnc-\(getpid())-\(UUID().uuidString.prefix(6))"
    }

    override func tearDown() async throws {
        await proxy?.stop()
        cache?.stop()
        server?.stop()
        if let server { try? FileManager.default.removeItem(atPath: server.dataDir) }
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func client() throws -> KubeClient {
        try KubeClient(connection: try DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig]),
                       options: KubeClientOptions(connectTimeout: 1, requestTimeout: 5))
    }

    /// The pod CIDR the cache answers with, nil when it answers nothing.
    private func cachedCIDR(_ cache: AgentNodeCache) -> String? {
        guard let a = cache.answer(method: "GET", target: "/api/v1/nodes/" + cache.node) else { return nil }
        XCTAssertEqual(a.status, 200)
        return (try? JSONWire.parse(a.body))?["spec"]?["podCIDR"]?.stringValue
    }

    private func eventually(_ what: String, timeout: Double = 10, _ condition: () -> Bool) async throws {
        let end = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < end else { return XCTFail("not within \(timeout) s: \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func testServedOnlyWhileFreshAndFollowsPodCIDRChanges() async throws {
        let api = try client()
        let name = "cnc-\(getpid())-node"
        let cache = AgentNodeCache(node: name)
        self.cache = cache
        cache.start(api: api, logger: .init(label: "test"), retryDelay: .milliseconds(50))
        // No such Node yet: nothing answered.
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertNil(cachedCIDR(cache))
        XCTAssertFalse(cache.isFresh)

        _ = try await api.create(K8sNode(metadata: ObjectMeta(name: name), spec: K8sNodeSpec(podCIDR: "10.7.1.0/24")))
        try await eventually("fresh after the Node appeared") { cachedCIDR(cache) == "10.7.1.0/24" }
        XCTAssertNil(cache.answer(method: "GET", target: "/api/v1/nodes/\(name)-other"), "only its own Node")
        XCTAssertNil(cache.answer(method: "PATCH", target: "/api/v1/nodes/\(name)"), "only reads")
        XCTAssertNil(cache.answer(method: "GET", target: "/api/v1/nodes/\(name)?resourceVersion=0"), "only the plain read")

        try await api.applyMergePatch(K8sNode.self, name: name, namespace: nil,
                                      mergePatch: .object(["spec": .object(["podCIDR": .string("10.7.2.0/24")])]))
        try await eventually("the changed podCIDR served") { cachedCIDR(cache) == "10.7.2.0/24" }

        try await api.delete(K8sNode.self, name: name, namespace: nil)
        try await eventually("stale once the Node is deleted") { !cache.isFresh }
        XCTAssertNil(cachedCIDR(cache))

        _ = try await api.create(K8sNode(metadata: ObjectMeta(name: name), spec: K8sNodeSpec(podCIDR: "10.7.3.0/24")))
        try await eventually("fresh again with the new Node") { cachedCIDR(cache) == "10.7.3.0/24" }

        server.stop()
        try await eventually("stale once the API server is gone") { !cache.isFresh }
        cache.stop()
        XCTAssertNil(cachedCIDR(cache))
    }

    func testThroughTheSocketAFreshCacheAnswersWithoutForwarding() async throws {
        let api = try client()
        let name = "cnc-\(getpid())-sock"
        _ = try await api.create(K8sNode(metadata: ObjectMeta(name: name), spec: K8sNodeSpec(podCIDR: "10.6.1.0/24")))
        let cache = AgentNodeCache(node: name)
        self.cache = cache
        final class Count: @unchecked Sendable {
            private let lock = NSLock()
            private var targets: [String] = []
            func add(_ t: String) { lock.withLock { targets.append(t) } }
            var all: [String] { lock.withLock { targets } }
        }
        let forwarded = Count()
        let path = dir + "/run/sock"
        proxy = try await AgentAPIProxy.start(path: path, cached: cache.answer, forwardNow: { method, target, body, type, done in
            forwarded.add("\(method) \(target)")
            api.forward(method: method, target: target, body: body, contentType: type, done: done)
        }, forward: { _, _, _, _ in (500, Data()) })
        let plugin = KubeClient.viaAgentSocket(path, options: KubeClientOptions(requestTimeout: 5))

        // Stale (not started): forwarded, the server's answer.
        let first = try await plugin.getJSON(K8sNode.self, name: name, namespace: nil)
        XCTAssertEqual(first["spec"]?["podCIDR"]?.stringValue, "10.6.1.0/24")
        XCTAssertEqual(forwarded.all, ["GET /api/v1/nodes/\(name)"])

        cache.start(api: api, logger: .init(label: "test"))
        try await eventually("fresh") { cache.isFresh }
        for _ in 0..<5 {
            let n = try await plugin.getJSON(K8sNode.self, name: name, namespace: nil)
            XCTAssertEqual(n["spec"]?["podCIDR"]?.stringValue, "10.6.1.0/24")
            XCTAssertEqual(n["metadata"]?["name"]?.stringValue, name)
        }
        XCTAssertEqual(forwarded.all.count, 1, "a fresh cache answers without the API server")

        try await api.applyMergePatch(K8sNode.self, name: name, namespace: nil,
                                      mergePatch: .object(["spec": .object(["podCIDR": .string("10.6.2.0/24")])]))
        try await eventually("the change served") { (try? JSONWire.parse(cache.answer(method: "GET", target: "/api/v1/nodes/\(name)")?.body ?? Data()))?["spec"]?["podCIDR"]?.stringValue == "10.6.2.0/24" }
        let changed = try await plugin.getJSON(K8sNode.self, name: name, namespace: nil)
        XCTAssertEqual(changed["spec"]?["podCIDR"]?.stringValue, "10.6.2.0/24")
        // Other Nodes are forwarded.
        do {
            _ = try await plugin.getJSON(K8sNode.self, name: name + "-none", namespace: nil)
            XCTFail("a missing Node read")
        } catch KubeError.notFound {}
        XCTAssertEqual(forwarded.all.count, 2)
    }
}
