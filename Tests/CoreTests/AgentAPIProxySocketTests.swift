@testable import Core
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The agent's socket end to end in one process: the proxy on a real unix socket, the plugin's
/// client (`KubeClient.viaAgentSocket`) on the other side, a fake API behind the proxy.
final class AgentAPIProxySocketTests: XCTestCase {
    private var dir = ""
    private var path: String { dir + "/sock" }
    private var proxy: AgentAPIProxy?
    private let seen = LockedTargets()

    override func setUpWithError() throws {
        dir = "/tmp/ags-\(getpid())-\(UUID().uuidString.prefix(6))/run"
    }

    override func tearDown() async throws {
        await proxy?.stop()
        try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent)
    }

    final class LockedTargets: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [String] = []
        func add(_ s: String) { lock.withLock { items.append(s) } }
        var all: [String] { lock.withLock { items } }
    }

    /// A fake API: a Node n1, a conflict on PUT, a transport failure for node "down".
    private func startProxy() async throws -> AgentAPIProxy {
        let seen = self.seen
        let p = try await AgentAPIProxy.start(path: path) { method, target, body, _ in
            seen.add("\(method) \(target)")
            switch (method, target) {
            case ("GET", "/api/v1/nodes/n1"):
                return (200, Data(#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","resourceVersion":"7"},"spec":{"podCIDR":"10.1.0.0/24"}}"#.utf8))
            case ("GET", "/api/v1/nodes/down"):
                throw KubeError.transport("GET https://192.0.2.1:6443/api/v1/nodes/down: Connection refused")
            case ("PUT", _):
                return (409, Data(#"{"kind":"Status","code":409,"reason":"Conflict","message":"the object has been modified"}"#.utf8))
            case ("PATCH", _):
                return (200, body ?? Data())
            default:
                return (404, Data(#"{"kind":"Status","code":404,"reason":"NotFound","message":"not found"}"#.utf8))
            }
        }
        proxy = p
        return p
    }

    func testRequestsAndAnswersCrossTheSocketUnchanged() async throws {
        _ = try await startProxy()
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600, "socket mode")
        XCTAssertEqual(stat(dir, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o700, "directory mode")
        XCTAssertTrue(AgentSocket.isServing(path))

        let client = KubeClient.viaAgentSocket(path, options: KubeClientOptions(requestTimeout: 5))
        XCTAssertTrue(client.viaAgent)
        let node = try await client.get(K8sNode.self, name: "n1", namespace: nil)
        XCTAssertEqual(node.metadata.name, "n1")
        XCTAssertEqual(node.spec?.podCIDR, "10.1.0.0/24")
        do {
            _ = try await client.get(K8sNode.self, name: "n2", namespace: nil)
            XCTFail("no error")
        } catch KubeError.notFound(let s) { XCTAssertEqual(s.message, "not found") }
        do {
            _ = try await client.update(IPAMHandle(metadata: ObjectMeta(name: "k8s-pod-network.c1"),
                                                   spec: IPAMHandleSpec(handleID: "k8s-pod-network.c1", block: [:])))
            XCTFail("no error")
        } catch KubeError.conflict(let s) { XCTAssertEqual(s.reason, "Conflict") }
        try await client.applyMergePatch(Pod.self, name: "p", namespace: "d", mergePatch: .object(["metadata": .object([:])]))
        XCTAssertEqual(seen.all, ["GET /api/v1/nodes/n1", "GET /api/v1/nodes/n2",
                                  "PUT /apis/crd.projectcalico.org/v1/ipamhandles/k8s-pod-network.c1",
                                  "PATCH /api/v1/namespaces/d/pods/p"])
        XCTAssertEqual(client.connectionsOpened, 1, "sequential requests share one kept connection")
        // Parallel requests queue for the one connection.
        async let a = client.get(K8sNode.self, name: "n1", namespace: nil)
        async let b = client.get(K8sNode.self, name: "n1", namespace: nil)
        async let c = client.get(K8sNode.self, name: "n1", namespace: nil)
        _ = try await (a, b, c)
        XCTAssertEqual(client.connectionsOpened, 1)
        // The agent restarts: the kept connections are dead, and the next request opens a new one.
        let before = client.connectionsOpened
        await proxy?.stop()
        proxy = nil
        _ = try await startProxy()
        let again = try await client.get(K8sNode.self, name: "n1", namespace: nil)
        XCTAssertEqual(again.metadata.name, "n1")
        XCTAssertEqual(client.connectionsOpened, before + 1)
    }

    func testTheAgentsTransportFailureIsATransportErrorAndRefusalsAreAPIErrors() async throws {
        _ = try await startProxy()
        let client = KubeClient.viaAgentSocket(path)
        do {
            _ = try await client.get(K8sNode.self, name: "down", namespace: nil)
            XCTFail("no error")
        } catch KubeError.transport(let m) {
            XCTAssertTrue(m.contains("the agent cannot reach the Kubernetes API") && m.contains("Connection refused"), m)
        }
        let forbidden = try await client.raw(method: "GET", path: "/api/v1/namespaces/kube-system/secrets/x")
        XCTAssertEqual(forbidden.status, 403)
        XCTAssertTrue(String(decoding: forbidden.body, as: UTF8.self).contains("does not forward"))
        do {
            _ = try await client.list(K8sNode.self)
            XCTFail("no error")
        } catch KubeError.api(let code, _) { XCTAssertEqual(code, 403) }
        do {
            for try await _ in client.watch(IPPool.self, options: ListOptions()) { XCTFail("a watch event") }
            XCTFail("a watch over the agent socket did not fail")
        } catch KubeError.transport(let m) { XCTAssertTrue(m.contains("watches are not served"), m) }
    }

    func testGarbageGetsA400AndTheProxyServesOn() async throws {
        _ = try await startProxy()
        for garbage in ["garbage\r\n\r\n", "GET /api/v1/nodes/n1 HTTP/9.9\r\nContent-Length: x\r\n\r\n", String(repeating: "\u{1}", count: 70_000)] {
            let fd = try UnixSocketConnection.connect(path, timeout: 1)
            XCTAssertTrue(UnixSocketConnection.writeAll(fd, Data(garbage.utf8)) || true)
            UnixSocketConnection.setTimeout(fd, SO_RCVTIMEO, 5)
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            close(fd)
            if n > 0 { XCTAssertTrue(String(decoding: buffer[..<n], as: UTF8.self).hasPrefix("HTTP/1.1 400"), String(decoding: buffer[..<n], as: UTF8.self)) }
        }
        // A client that connects and closes at once.
        close(try UnixSocketConnection.connect(path, timeout: 1))
        let node = try await KubeClient.viaAgentSocket(path).get(K8sNode.self, name: "n1", namespace: nil)
        XCTAssertEqual(node.metadata.name, "n1")
    }

    func testStaleSocketIsReplacedLiveOneRefusedAndStopRemovesIt() async throws {
        // A socket file whose process is gone.
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = try UnixSocketConnection.address(path)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(fd)
        XCTAssertFalse(AgentSocket.isServing(path), "a stale socket refuses")
        let p = try await startProxy()
        XCTAssertTrue(AgentSocket.isServing(path))
        do {
            _ = try await AgentAPIProxy.start(path: path) { _, _, _, _ in (200, Data()) }
            XCTFail("a second proxy bound a live socket")
        } catch let e as AgentAPIProxyError {
            XCTAssertTrue(e.description.contains("another process serves it"), e.description)
        }
        await p.stop()
        proxy = nil
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertFalse(AgentSocket.isServing(path))
        do {
            _ = try await KubeClient.viaAgentSocket(path).get(K8sNode.self, name: "n1", namespace: nil)
            XCTFail("no error")
        } catch KubeError.transport(let m) { XCTAssertTrue(m.contains("connect to \(path)"), m) }
        // Not a socket: refused with what to do.
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        do {
            _ = try await AgentAPIProxy.start(path: path) { _, _, _, _ in (200, Data()) }
            XCTFail("bound over a regular file")
        } catch let e as AgentAPIProxyError { XCTAssertTrue(e.description.contains("not a socket"), e.description) }
    }

    func testSocketPathFromTheEnvironment() {
        XCTAssertEqual(AgentSocket.path(environment: [:]), "/var/run/calico/cni-api.sock")
        XCTAssertEqual(AgentSocket.path(environment: ["CALICO_CNI_API_SOCKET": "/run/x.sock"]), "/run/x.sock")
        XCTAssertNil(AgentSocket.path(environment: ["CALICO_CNI_API_SOCKET": "none"]))
        XCTAssertNil(AgentSocket.path(environment: ["CALICO_CNI_API_SOCKET": ""]))
        XCTAssertNil(AgentSocket.choose(environment: ["CALICO_CNI_API_SOCKET": "/nonexistent/x.sock"]))
    }
}
