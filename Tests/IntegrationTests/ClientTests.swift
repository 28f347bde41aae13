import Foundation
import XCTest
@testable import Core

/// A minimal Calico IPPool for tests.
struct ClientTestIPPool: KubeResource {
    static let resource = ResourceKind.ipPool
    var metadata: ObjectMeta
    var spec: Spec
    var raw: JSONValue?
    struct Spec: Codable, Sendable, Equatable {
        var cidr: String
        var blockSize: Int?
        var natOutgoing: Bool?
    }
    enum CodingKeys: String, CodingKey { case metadata, spec }
}

/// KubeClient against `calico-devcluster apiserver` over TLS, with the connection read from the
/// kubeconfigs the server writes (bearer token and client certificate).
final class ClientTests: XCTestCase {
    // One server for the class, stopped when the class is done (a static would outlive the run).
    private nonisolated(unsafe) static var shared: Result<DevServer, Error>?
    private var server: DevServer!

    override class func setUp() { shared = Result { try DevServer.start() } }
    override class func tearDown() {
        if case .success(let s)? = shared { s.stop() }
        shared = nil
    }
    override func setUpWithError() throws { server = try XCTUnwrap(Self.shared).get() }

    private func client(kubeconfig: String) throws -> KubeClient {
        try KubeClient(connection: try DatastoreConfig.load(environment: ["KUBECONFIG": kubeconfig]))
    }

    private func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

    func testNodeCRUDWithBearerTokenKeepsUnknownFieldsAndRejectsStaleUpdates() async throws {
        let c = try client(kubeconfig: server.tokenKubeconfig)
        XCTAssertNotNil(c.connection.token)
        let name = unique("node")
        var node = ClientTestNode(name: name, podCIDR: "10.244.1.0/24")
        node.metadata.labels = ["role": "worker"]
        node.raw = .object(["status": .object(["addresses": .array([.object(["type": .string("InternalIP"), "address": .string("10.0.0.5")])])])])
        let created = try await c.create(node)
        XCTAssertEqual(created.metadata.name, name)
        let firstVersion = try XCTUnwrap(created.metadata.resourceVersion)

        var fetched = try await c.get(ClientTestNode.self, name: name, namespace: nil)
        XCTAssertEqual(fetched.spec?.podCIDR, "10.244.1.0/24")
        XCTAssertEqual(fetched.raw?["status"]?["addresses"]?.arrayValue?.first?["address"], .string("10.0.0.5"))

        fetched.metadata.labels?["zone"] = "a"
        let updated = try await c.update(fetched)
        XCTAssertEqual(updated.metadata.labels, ["role": "worker", "zone": "a"])
        XCTAssertNotEqual(updated.metadata.resourceVersion, firstVersion)
        XCTAssertEqual(updated.raw?["status"]?["addresses"]?.arrayValue?.count, 1, "unknown fields survive an update")

        var stale = created
        stale.metadata.labels = ["role": "stale"]
        do {
            _ = try await c.update(stale)
            XCTFail("an update with an old resourceVersion must be rejected")
        } catch KubeError.conflict(let status) {
            XCTAssertEqual(status.code, 409)
        }
        do {
            _ = try await c.create(node)
            XCTFail("creating an existing name must be rejected")
        } catch KubeError.conflict {}

        let patched = try await c.patch(ClientTestNode.self, name: name, namespace: nil, mergePatch: .object([
            "metadata": .object(["annotations": .object(["projectcalico.org/IPv4Address": .string("10.0.0.5/24")]),
                                 "labels": .object(["zone": .null])])]))
        XCTAssertEqual(patched.metadata.annotations?["projectcalico.org/IPv4Address"], "10.0.0.5/24")
        XCTAssertEqual(patched.metadata.labels, ["role": "worker"])

        try await c.delete(ClientTestNode.self, name: name, namespace: nil)
        do {
            _ = try await c.get(ClientTestNode.self, name: name, namespace: nil)
            XCTFail("deleted node still readable")
        } catch KubeError.notFound(let status) {
            XCTAssertEqual(status.code, 404)
        }
    }

    func testIPPoolCRUDWithClientCertificate() async throws {
        let c = try client(kubeconfig: server.certKubeconfig)
        XCTAssertNotNil(c.connection.clientCertPEM)
        XCTAssertNil(c.connection.token)
        let name = unique("pool")
        let pool = ClientTestIPPool(metadata: ObjectMeta(name: name), spec: .init(cidr: "10.42.0.0/16", blockSize: 26, natOutgoing: true))
        let created = try await c.create(pool)
        XCTAssertEqual(created.spec, pool.spec)
        XCTAssertEqual(created.raw?["apiVersion"], .string("crd.projectcalico.org/v1"))

        let listed = try await c.list(ClientTestIPPool.self)
        XCTAssertTrue(listed.items.contains { $0.metadata.name == name })
        XCTAssertFalse(listed.resourceVersion.isEmpty)

        let patched = try await c.patch(ClientTestIPPool.self, name: name, namespace: nil,
                                        mergePatch: .object(["spec": .object(["natOutgoing": .bool(false)])]))
        XCTAssertEqual(patched.spec, .init(cidr: "10.42.0.0/16", blockSize: 26, natOutgoing: false))
        try await c.delete(ClientTestIPPool.self, name: name, namespace: nil)
        do {
            try await c.delete(ClientTestIPPool.self, name: name, namespace: nil)
            XCTFail("second delete must be notFound")
        } catch KubeError.notFound {}
    }

    func testUnauthenticatedRequestIsAnAPIError() async throws {
        let withToken = try DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig])
        let anonymous = try KubeClient(connection: ClusterConnection(server: withToken.server, caPEM: withToken.caPEM))
        do {
            _ = try await anonymous.listPage(ClientTestNode.self, options: ListOptions(limit: 1))
            XCTFail("a request without credentials must be refused")
        } catch KubeError.api(let code, _) {
            XCTAssertEqual(code, 401)
        }
    }

    func testListPaginationWithLimitAndLabelSelector() async throws {
        let c = try client(kubeconfig: server.tokenKubeconfig)
        let batch = unique("batch")
        for i in 0..<7 {
            var node = ClientTestNode(name: "\(batch)-\(i)")
            node.metadata.labels = ["batch": batch]
            _ = try await c.create(node)
        }
        let selector = "batch in (\(batch),no-such-batch)"
        let first = try await c.listPage(ClientTestNode.self, options: ListOptions(labelSelector: selector, limit: 3))
        XCTAssertEqual(first.items.count, 3)
        let token = try XCTUnwrap(first.continueToken)
        let second = try await c.listPage(ClientTestNode.self, options: ListOptions(labelSelector: selector, limit: 3, continueToken: token))
        XCTAssertEqual(second.items.count, 3)
        XCTAssertTrue(Set(first.items.map(\.metadata.name)).isDisjoint(with: second.items.map(\.metadata.name)))

        let all = try await c.list(ClientTestNode.self, options: ListOptions(labelSelector: selector, limit: 3))
        XCTAssertEqual(Set(all.items.map(\.metadata.name)), Set((0..<7).map { "\(batch)-\($0)" }))
        XCTAssertNil(all.continueToken)
        XCTAssertEqual(c.transport.connectionsOpened, 1, "sequential requests share one keep-alive connection")
    }

    func testWatchSeesAddedModifiedDeleted() async throws {
        let c = try client(kubeconfig: server.tokenKubeconfig)
        let name = unique("watched")
        let start = try await c.listPage(ClientTestNode.self, options: ListOptions(limit: 1))
        let options = ListOptions(fieldSelector: "metadata.name=\(name)", resourceVersion: start.resourceVersion, timeoutSeconds: 30)
        // Watching from the list's resourceVersion replays whatever happens before the watch is up.
        let collector = Task { try await firstEvents(3, of: c.watch(ClientTestNode.self, options: options)) }
        _ = try await c.create(ClientTestNode(name: name))
        _ = try await c.patch(ClientTestNode.self, name: name, namespace: nil,
                              mergePatch: .object(["metadata": .object(["labels": .object(["x": .string("y")])])]))
        try await c.delete(ClientTestNode.self, name: name, namespace: nil)
        let events = try await collector.value
        XCTAssertEqual(events.map(\.kind), [.added, .modified, .deleted])
        XCTAssertEqual(Set(events.map(\.object.metadata.name)), [name])
        XCTAssertEqual(events[1].object.metadata.labels, ["x": "y"])
    }

    func testWatchFromACompactedVersionIsGone() async throws {
        let c = try client(kubeconfig: server.tokenKubeconfig)
        let old = try await c.listPage(ClientTestNode.self, options: ListOptions(limit: 1)).resourceVersion
        _ = try await c.create(ClientTestNode(name: unique("churn")))
        try server.compact()
        do {
            _ = try await firstEvents(1, of: c.watch(ClientTestNode.self, options: ListOptions(resourceVersion: old, timeoutSeconds: 10)))
            XCTFail("a watch from a compacted resourceVersion must fail with .gone")
        } catch KubeError.gone {}
    }

    func testHundredWatchesAndRequestsDoNotCostAThreadEach() async throws {
        let c = try client(kubeconfig: server.tokenKubeconfig)
        let rv = try await c.listPage(ClientTestNode.self, options: ListOptions(limit: 1)).resourceVersion
        let before = try threadCount()
        let batch = unique("many")
        let watches = (0..<100).map { _ in
            Task { try await firstEvents(1, of: c.watch(ClientTestNode.self, options: ListOptions(
                labelSelector: "batch=\(batch)", resourceVersion: rv, timeoutSeconds: 30)), timeout: 30) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<100 { group.addTask { _ = try await c.listPage(ClientTestNode.self, options: ListOptions(limit: 1)) } }
            try await group.waitForAll()
        }
        var node = ClientTestNode(name: batch)
        node.metadata.labels = ["batch": batch]
        _ = try await c.create(node)
        for w in watches {
            let events = try await w.value
            XCTAssertEqual(events.first?.object.metadata.name, batch)
        }
        let after = try threadCount()
        print("threads in process: \(before) before, \(after) after 100 watches and 100 lists")
        XCTAssertLessThan(after - before, 10)
        try await c.delete(ClientTestNode.self, name: batch, namespace: nil)
    }
}

/// The first `count` events of `stream`, failing after `timeout` seconds.
private func firstEvents<T: KubeResource>(_ count: Int, of stream: AsyncThrowingStream<WatchEvent<T>, Error>,
                                           timeout: Double = 10) async throws -> [WatchEvent<T>] {
    try await withThrowingTaskGroup(of: [WatchEvent<T>].self) { group in
        group.addTask {
            var events: [WatchEvent<T>] = []
            for try await event in stream where event.kind != .bookmark {
                events.append(event)
                if events.count == count { break }
            }
            return events
        }
        group.addTask {
            try await Task.sleep(for: .seconds(timeout))
            throw DevServerError("fewer than \(count) watch events within \(timeout)s")
        }
        defer { group.cancelAll() }
        return try await group.next() ?? []
    }
}
