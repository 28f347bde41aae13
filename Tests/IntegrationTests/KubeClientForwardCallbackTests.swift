import Core
import Foundation
import XCTest

/// `KubeClient.forward(..., done:)`, the agent's forwarding from its event loop: the same status
/// and bytes as the task-based `forward`, `done` called exactly once per request, and a server
/// that cannot be reached is a transport error.
final class KubeClientForwardCallbackTests: XCTestCase {
    private var server: DevServer!

    override func setUpWithError() throws { server = try DevServer.start() }

    override func tearDown() {
        server?.stop()
        if let server { try? FileManager.default.removeItem(atPath: server.dataDir) }
    }

    private nonisolated static func forward(_ api: KubeClient, _ method: String, _ target: String, _ body: Data? = nil,
                         _ type: String? = nil) async throws -> (status: Int, body: Data) {
        let calls = ManagedCount()
        let result: (status: Int, body: Data) = try await withCheckedThrowingContinuation { continuation in
            api.forward(method: method, target: target, body: body, contentType: type) { result in
                if calls.increment() == 1 { continuation.resume(with: result) }
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        guard calls.value == 1 else { throw KubeError.transport("done called \(calls.value) times") }
        return result
    }

    final class ManagedCount: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func increment() -> Int { lock.withLock { n += 1; return n } }
        var value: Int { lock.withLock { n } }
    }

    func testForwardWithDoneMatchesTheTaskForward() async throws {
        let api = try KubeClient(connection: try DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig]))
        let name = "fcb-\(getpid())-node"
        _ = try await api.create(K8sNode(metadata: ObjectMeta(name: name), spec: K8sNodeSpec(podCIDR: "10.8.1.0/24")))

        let viaDone = try await Self.forward(api, "GET", "/api/v1/nodes/\(name)")
        let viaTask = try await api.forward(method: "GET", target: "/api/v1/nodes/\(name)", body: nil, contentType: nil)
        XCTAssertEqual(viaDone.status, 200)
        XCTAssertEqual(viaDone.status, viaTask.status)
        XCTAssertEqual(viaDone.body, viaTask.body)

        let patched = try await Self.forward(api, "PATCH", "/api/v1/nodes/\(name)",
                                        Data(#"{"metadata":{"labels":{"fcb":"yes"}}}"#.utf8), "application/merge-patch+json")
        XCTAssertEqual(patched.status, 200)
        let node = try await api.get(K8sNode.self, name: name, namespace: nil)
        XCTAssertEqual(node.metadata.labels?["fcb"], "yes")

        let missing = try await Self.forward(api, "GET", "/api/v1/nodes/fcb-missing")
        XCTAssertEqual(missing.status, 404)

        // Twenty at once on the one client: each answer is its own request's.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    let target = i % 2 == 0 ? "/api/v1/nodes/\(name)" : "/api/v1/nodes/fcb-missing-\(i)"
                    let r = try await Self.forward(api, "GET", target)
                    XCTAssertEqual(r.status, i % 2 == 0 ? 200 : 404)
                }
            }
            try await group.waitForAll()
        }
    }

    func testUnreachableServerIsATransportError() async throws {
        let url = server.url
        server.stop()
        let config = try DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig])
        let api = try KubeClient(connection: config, options: KubeClientOptions(connectTimeout: 1, requestTimeout: 3))
        do {
            _ = try await Self.forward(api, "GET", "/api/v1/nodes/x")
            XCTFail("no error from a stopped server at \(url)")
        } catch KubeError.transport(let m) {
            XCTAssertTrue(m.contains("/api/v1/nodes/x"), m)
        }
    }
}
