import Foundation
import XCTest
@testable import Core

/// A minimal Node for tests: just enough typed fields, everything else kept in `raw`.
struct ClientTestNode: KubeResource {
    static let resource = ResourceKind.node
    var metadata: ObjectMeta
    var spec: Spec?
    var raw: JSONValue?
    struct Spec: Codable, Sendable, Equatable { var podCIDR: String? }
    enum CodingKeys: String, CodingKey { case metadata, spec }

    init(name: String, podCIDR: String? = nil) {
        metadata = ObjectMeta(name: name)
        spec = Spec(podCIDR: podCIDR)
    }
}

/// The transport and client against a throwaway HTTPS server: TLS verification, client
/// certificates, headers, methods, error mapping, watch streaming, cancellation, concurrency.
final class ClientTLSTests: XCTestCase {
    private nonisolated(unsafe) static var shared: Result<ThrowawayHTTPSServer, Error>?
    private var server: ThrowawayHTTPSServer!
    private let token = "s3cret-token-value"

    override class func setUp() { shared = Result { try ThrowawayHTTPSServer() } }
    override class func tearDown() { shared = nil }
    override func setUpWithError() throws { server = try XCTUnwrap(Self.shared).get() }

    private func client(ca: String? = "ca.crt", cert: Bool = false, insecure: Bool = false) throws -> KubeClient {
        try KubeClient(connection: ClusterConnection(
            server: server.url, caPEM: try ca.map(server.pem), insecureSkipTLSVerify: insecure,
            clientCertPEM: cert ? try server.pem("client.crt") : nil, clientKeyPEM: cert ? try server.pem("client.key") : nil,
            token: cert ? nil : token))
    }

    private func echo(_ client: KubeClient, path: String = "/echo") async throws -> JSONValue {
        let (status, body) = try await client.raw(method: "GET", path: path)
        XCTAssertEqual(status, 200)
        return try XCTUnwrap(JSONValue(data: body)["echo"])
    }

    func testRightCAIsAcceptedAndRequestCarriesTokenAcceptAndUserAgent() async throws {
        let e = try await echo(try client())
        XCTAssertEqual(e["authorization"], .string("Bearer \(token)"))
        XCTAssertEqual(e["userAgent"], .string("calico-node/\(CalicoVersion.version)"))
        XCTAssertEqual(e["accept"], .string("application/json"))
        XCTAssertEqual(e["clientCN"], .null)
    }

    func testWrongCAIsRejectedWithATransportErrorThatHidesTheToken() async throws {
        let c = try client(ca: "other-ca.crt")
        do {
            _ = try await c.get(ClientTestNode.self, name: "x", namespace: nil)
            XCTFail("a server certificate from another CA must be rejected")
        } catch KubeError.transport(let message) {
            XCTAssertTrue(message.contains("certificate"), message)
            XCTAssertFalse(message.contains(token))
        }
    }

    func testInsecureSkipVerifyAcceptsAnyServer() async throws {
        let e = try await echo(try client(ca: "other-ca.crt", insecure: true))
        XCTAssertEqual(e["authorization"], .string("Bearer \(token)"))
    }

    func testClientCertificateIsPresented() async throws {
        let e = try await echo(try client(cert: true))
        XCTAssertEqual(e["clientCN"], .string("admin"))
        XCTAssertEqual(e["authorization"], .null)
    }

    func testRotatedTokenFileIsUsedByTheNextRequest() async throws {
        let path = server.dir + "/token-\(UUID().uuidString)"
        try "first\n".write(toFile: path, atomically: true, encoding: .utf8)
        let c = try KubeClient(connection: ClusterConnection(server: server.url, caPEM: try server.pem("ca.crt"), tokenFile: path))
        var e = try await echo(c)
        XCTAssertEqual(e["authorization"], .string("Bearer first"))
        try "rotated-token".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: path)
        e = try await echo(c)
        XCTAssertEqual(e["authorization"], .string("Bearer rotated-token"))
    }

    func testSequentialRequestsReuseOneKeepAliveConnection() async throws {
        let c = try client()
        for i in 0..<20 { _ = try await echo(c, path: "/echo/\(i)") }
        XCTAssertEqual(c.transport.connectionsOpened, 1)
    }

    func testDroppingAClientStopsItsLoopThread() async throws {
        // Follows the loop threads by thread id: counting all of the process's threads raced with
        // unrelated threads (Dispatch workers, earlier tests' clients) coming and going.
        let baseline = try loopThreadIDs()
        for _ in 0..<5 {
            var mine: Set<String> = []
            do {
                let c = try client()
                _ = try await echo(c)
                mine = try loopThreadIDs().subtracting(baseline)
                XCTAssertEqual(mine.count, 1, "a live client has exactly one loop thread of its own")
            }
            let ids = mine
            try await waitUntil { ((try? loopThreadIDs()) ?? ids).isDisjoint(with: ids) }
        }
    }

    func testWritesUseTheRightMethodsPathsAndBodies() async throws {
        let c = try client()
        var node = ClientTestNode(name: "n1", podCIDR: "10.0.0.0/24")
        node.raw = .object(["status": .object(["unknown": .bool(true)])])
        let created = try await c.create(node)
        let ce = try XCTUnwrap(created.raw?["echo"])
        XCTAssertEqual(ce["method"], .string("POST"))
        XCTAssertEqual(ce["path"], .string("/api/v1/nodes"))
        XCTAssertEqual(ce["contentType"], .string("application/json"))
        let sent = try JSONValue(data: Data(try XCTUnwrap(ce["body"]?.stringValue).utf8))
        XCTAssertEqual(sent["kind"], .string("Node"))
        XCTAssertEqual(sent["apiVersion"], .string("v1"))
        XCTAssertEqual(sent["spec"]?["podCIDR"], .string("10.0.0.0/24"))
        XCTAssertEqual(sent["status"]?["unknown"], .bool(true), "unknown fields survive the write")

        let updated = try await c.update(node)
        XCTAssertEqual(updated.raw?["echo"]?["method"], .string("PUT"))
        XCTAssertEqual(updated.raw?["echo"]?["path"], .string("/api/v1/nodes/n1"))

        let patched = try await c.patch(ClientTestNode.self, name: "n1", namespace: nil, mergePatch: .object(["metadata": .object(["labels": .object(["a": .string("b")])])]))
        XCTAssertEqual(patched.raw?["echo"]?["method"], .string("PATCH"))
        XCTAssertEqual(patched.raw?["echo"]?["contentType"], .string("application/merge-patch+json"))
        XCTAssertEqual(patched.raw?["echo"]?["body"], .string(#"{"metadata":{"labels":{"a":"b"}}}"#))

        try await c.delete(ClientTestNode.self, name: "n1", namespace: nil)
        let list = try await c.raw(method: "GET", path: "/api/v1/pods", query: ["labelSelector": "a in (x,y)", "limit": "2"])
        XCTAssertEqual(try JSONValue(data: list.body)["echo"]?["query"], .string("labelSelector=a%20in%20%28x%2Cy%29&limit=2"))
    }

    func testErrorStatusesMapToKubeErrors() async throws {
        let c = try client()
        await assertThrows(try await c.get(ClientTestNode.self, name: "status-404", namespace: nil)) {
            guard case .notFound(let s) = $0 else { return false }
            return s.message == "test status 404" && s.reason == "Test404"
        }
        await assertThrows(try await c.update(ClientTestNode(name: "status-409"))) { if case .conflict = $0 { true } else { false } }
        await assertThrows(try await c.get(ClientTestNode.self, name: "status-410", namespace: nil)) { if case .gone = $0 { true } else { false } }
        await assertThrows(try await c.get(ClientTestNode.self, name: "status-503", namespace: nil)) { if case .api(503, _) = $0 { true } else { false } }
        let raw = try await c.raw(method: "GET", path: "/api/v1/nodes/status-403")
        XCTAssertEqual(raw.status, 403)
    }

    func testConnectionRefusedIsATransportError() async throws {
        let c = try KubeClient(connection: ClusterConnection(server: "https://127.0.0.1:1", token: token))
        await assertThrows(try await c.raw(method: "GET", path: "/api")) {
            guard case .transport(let m) = $0 else { return false }
            return m.contains("127.0.0.1") && !m.contains(self.token)
        }
    }

    func testWatchDeliversEventsSplitAcrossChunksAndEndsWhenTheServerCloses() async throws {
        var names: [String] = []
        for try await event in try client().watch(ClientTestNode.self, options: ListOptions(resourceVersion: "0")) {
            XCTAssertEqual(event.kind, .added)
            names.append(event.object.metadata.name)
        }
        XCTAssertEqual(names, ["n0", "n1", "n2", "n3", "n4"])
    }

    func testWatchErrorEventAndNon200AnswerThrowGone() async throws {
        var seen = 0
        do {
            for try await _ in try client().watch(ClientTestNode.self, options: ListOptions(labelSelector: "errorevent")) { seen += 1 }
            XCTFail("an ERROR 410 event must end the watch with .gone")
        } catch KubeError.gone(let s) {
            XCTAssertEqual(s.code, 410)
        }
        XCTAssertEqual(seen, 5)
        do {
            for try await _ in try client().watch(ClientTestNode.self, options: ListOptions(labelSelector: "fail410")) {}
            XCTFail("a 410 answer to the watch request must throw .gone")
        } catch KubeError.gone(let s) {
            XCTAssertEqual(s.message, "test status 410")
        }
    }

    func testCancellingARequestOrAWatchRemovesItFromTheLoop() async throws {
        let c = try client()
        let started = Date()
        let hanging = Task { try await c.raw(method: "GET", path: "/hang") }
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertEqual(c.transport.activeTransfers, 1)
        hanging.cancel()
        let result = await hanging.result
        XCTAssertThrowsError(try result.get()) { XCTAssertTrue($0 is CancellationError, "\($0)") }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)

        let watcher = Task {
            for try await _ in c.watch(ClientTestNode.self, options: ListOptions(labelSelector: "hold", timeoutSeconds: 20)) { break }
        }
        try await watcher.value
        try await waitUntil { c.transport.activeTransfers == 0 }
    }

    func testHundredWatchesAndHundredRequestsShareOneThread() async throws {
        let c = try client()
        _ = try await echo(c)  // the loop thread exists from here on
        let before = try threadCount()
        let firstEvents = LockedBox(0)
        let watches = (0..<100).map { _ in
            Task {
                for try await _ in c.watch(ClientTestNode.self, options: ListOptions(labelSelector: "hold", timeoutSeconds: 20)) {
                    firstEvents.withLock { $0 += 1 }
                }
            }
        }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<100 { group.addTask { try await c.raw(method: "GET", path: "/echo/\(i)").status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        XCTAssertEqual(statuses, Array(repeating: 200, count: 100))
        try await waitUntil(timeout: 20) { firstEvents.value == 100 }
        XCTAssertEqual(c.transport.activeTransfers, 100)
        let during = try threadCount()
        print("threads in process: \(before) before, \(during) with 100 watches open")
        XCTAssertLessThan(during - before, 10, "100 open watches must not cost a thread each (\(before) -> \(during))")
        for w in watches { w.cancel() }
        try await waitUntil { c.transport.activeTransfers == 0 }
    }

    // MARK: Helpers

    private func waitUntil(timeout: TimeInterval = 5, _ condition: @Sendable () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else { return XCTFail("condition not met within \(timeout)s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func assertThrows<R>(_ body: @autoclosure () async throws -> R, file: StaticString = #filePath, line: UInt = #line,
                                 _ matches: (KubeError) -> Bool) async {
        do {
            _ = try await body()
            XCTFail("expected a KubeError", file: file, line: line)
        } catch let error as KubeError {
            XCTAssertTrue(matches(error), "unexpected \(error)", file: file, line: line)
        } catch {
            XCTFail("expected a KubeError, got \(error)", file: file, line: line)
        }
    }
}

/// Threads of this process right now.
func threadCount() throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
}

/// Thread ids of the Kubernetes clients' libcurl loop threads (named "calico-http").
func loopThreadIDs() throws -> Set<String> {
    Set(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").filter { tid in
        (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) == "calico-http"
    })
}
