@testable import Core
import Foundation
import XCTest

/// The proxy's forwarding without a task (`forwardNow`, what the agent uses): requests reach
/// the callback as the plugin sent them, answers (from whatever thread the callback answers on)
/// reach the plugin unchanged, a transport failure is the agent's 502, refusals never reach the
/// callback, and the task-based `forward` is not used.
final class AgentAPIForwardNowTests: XCTestCase {
    private var dir = ""
    private var path: String { dir + "/sock" }
    private var proxy: AgentAPIProxy?

    override func setUpWithError() throws {
        dir = "/tmp/agn-\(getpid())-\(UUID().uuidString.prefix(6))/run"
    }

    override func tearDown() async throws {
        await proxy?.stop()
        try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent)
    }

    typealias Seen = AgentAPIProxySocketTests.LockedTargets

    func testForwardNowAnswersFromAnotherThreadAndTheTaskPathIsUnused() async throws {
        let seen = Seen(), taskPath = Seen()
        let queue = DispatchQueue(label: "agn-fake-http")
        proxy = try await AgentAPIProxy.start(path: path, forwardNow: { method, target, body, type, done in
            seen.add("\(method) \(target) \(type ?? "-") \(body.map { String(decoding: $0, as: UTF8.self) } ?? "-")")
            queue.async {
                switch target {
                case "/api/v1/nodes/n1":
                    done(.success((200, Data(#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"spec":{"podCIDR":"10.1.0.0/24"}}"#.utf8))))
                case "/api/v1/nodes/down":
                    done(.failure(KubeError.transport("GET https://192.0.2.1:6443/api/v1/nodes/down: Connection refused")))
                default:
                    done(.success((200, body ?? Data())))
                }
            }
        }, forward: { method, target, _, _ in
            taskPath.add("\(method) \(target)")
            return (500, Data())
        })

        let client = KubeClient.viaAgentSocket(path, options: KubeClientOptions(requestTimeout: 5))
        let node = try await client.getJSON(K8sNode.self, name: "n1", namespace: nil)
        XCTAssertEqual(node["spec"]?["podCIDR"]?.stringValue, "10.1.0.0/24")
        try await client.applyMergePatch(Pod.self, name: "p", namespace: "d", mergePatch: .object(["metadata": .object([:])]))
        do {
            _ = try await client.getJSON(K8sNode.self, name: "down", namespace: nil)
            XCTFail("no error")
        } catch KubeError.transport(let m) {
            XCTAssertTrue(m.contains("the agent cannot reach the Kubernetes API") && m.contains("Connection refused"), m)
        }
        let forbidden = try await client.raw(method: "GET", path: "/api/v1/namespaces/kube-system/secrets/x")
        XCTAssertEqual(forbidden.status, 403)

        // Many at once on their own connections: each gets its own answer.
        let path = self.path
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let c = KubeClient.viaAgentSocket(path, options: KubeClientOptions(requestTimeout: 5))
                    let n = try await c.getJSON(K8sNode.self, name: "n1", namespace: nil)
                    XCTAssertEqual(n["metadata"]?["name"]?.stringValue, "n1")
                }
            }
            try await group.waitForAll()
        }

        XCTAssertEqual(Array(seen.all.prefix(3)), [
            "GET /api/v1/nodes/n1 - -",
            #"PATCH /api/v1/namespaces/d/pods/p application/merge-patch+json {"metadata":{}}"#,
            "GET /api/v1/nodes/down - -",
        ])
        XCTAssertEqual(seen.all.count, 23, "the refused request must not be forwarded")
        XCTAssertEqual(taskPath.all, [], "with forwardNow the task-based forward is not used")
    }

    func testRouteDecidesWithoutIO() {
        XCTAssertEqual(AgentAPIRouting.route(method: "get", target: "/api/v1/nodes/n1", body: Data(), contentType: nil, hasLocal: false),
                       .forward(method: "GET", target: "/api/v1/nodes/n1", body: nil, contentType: nil))
        XCTAssertEqual(AgentAPIRouting.route(method: "PATCH", target: "/api/v1/namespaces/d/pods/p", body: Data("{}".utf8),
                                             contentType: "application/merge-patch+json; charset=utf-8", hasLocal: false),
                       .forward(method: "PATCH", target: "/api/v1/namespaces/d/pods/p", body: Data("{}".utf8), contentType: "application/merge-patch+json"))
        XCTAssertEqual(AgentAPIRouting.route(method: "POST", target: "/calico-agent/v1/ipam/assign", body: Data("{}".utf8),
                                             contentType: "application/json", hasLocal: true),
                       .local(path: "/calico-agent/v1/ipam/assign", body: Data("{}".utf8)))
        guard case .answer(let a) = AgentAPIRouting.route(method: "POST", target: "/calico-agent/v1/ipam/assign", body: nil,
                                                          contentType: "application/json", hasLocal: false) else { return XCTFail("not answered") }
        XCTAssertEqual(a.status, 404)
        guard case .answer(let f) = AgentAPIRouting.route(method: "DELETE", target: "/api/v1/nodes/n1", body: nil,
                                                          contentType: nil, hasLocal: true) else { return XCTFail("not answered") }
        XCTAssertEqual(f.status, 403)
        XCTAssertEqual(AgentAPIRouting.forwarded(.success((201, Data("x".utf8)))), AgentAPIRouting.Answer(status: 201, body: Data("x".utf8)))
        let failed = AgentAPIRouting.forwarded(.failure(KubeError.transport("boom")))
        XCTAssertEqual(failed.status, 502)
        XCTAssertEqual(failed.agentError, "transport")
    }
}
