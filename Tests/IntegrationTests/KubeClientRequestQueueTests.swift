@testable import Core
import Foundation
import XCTest

/// A client limited to one request in flight (the CNI plugin's) queues its parallel requests
/// and starts each as soon as the one before it is answered. libcurl 7.88's own queue
/// (CURLMOPT_MAX_HOST_CONNECTIONS) sometimes left a queued transfer with no timer, so it sat
/// until the loop's 1 s poll cap: the ~1 s stalls of `bench/cni.sh`'s direct calico-ipam column.
final class KubeClientRequestQueueTests: XCTestCase {
    private var server: DevServer!

    override func setUpWithError() throws {
        server = try DevServer.start()
    }

    override func tearDown() {
        server?.stop()
        if let server { try? FileManager.default.removeItem(atPath: server.dataDir) }
    }

    /// Rounds of three parallel reads, each round on a fresh one-request client (as one plugin
    /// invocation): every round shares one connection and none waits anything like the poll cap.
    func testQueuedRequestsNeverWaitForThePollTimeout() async throws {
        let connection = try DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig])
        let admin = try KubeClient(connection: connection)
        _ = try await admin.create(IPPool(metadata: ObjectMeta(name: "queue-pool"), spec: IPPoolSpec(cidr: "10.78.0.0/16", blockSize: 26)))
        var slowest = 0.0
        var slowRounds: [String] = []
        for round in 0..<300 {
            let client = try KubeClient(connection: connection, options: KubeClientOptions(maxConnections: 1))
            let start = Date()
            async let a = client.list(IPPool.self)
            async let b = client.list(IPAMBlock.self)
            async let c = client.list(IPAMHandle.self)
            async let d = client.get(IPPool.self, name: "queue-pool", namespace: nil)
            let (pools, blocks, handles, pool) = try await (a, b, c, d)
            let elapsed = Date().timeIntervalSince(start)
            XCTAssertEqual(pools.items.count, 1)
            XCTAssertEqual(blocks.items.count, 0)
            XCTAssertEqual(handles.items.count, 0)
            XCTAssertEqual(pool.spec.cidr, "10.78.0.0/16")
            XCTAssertEqual(client.transport.connectionsOpened, 1, "round \(round): the queued requests shared one connection")
            XCTAssertEqual(client.transport.activeTransfers, 0)
            slowest = max(slowest, elapsed)
            if elapsed > 0.9 { slowRounds.append("round \(round): \(Int(elapsed * 1000)) ms") }
        }
        // A debug build answers a round in ~15 ms (tens under load); a stall is the 1 s poll cap.
        XCTAssertEqual(slowRounds, [], "queued requests waited for the poll timeout (slowest \(Int(slowest * 1000)) ms)")
    }

    /// A request queued behind a watch (which holds the one slot while it is read) waits;
    /// cancelled there, it fails with CancellationError at once and never reaches the server;
    /// once the watch ends, the next request goes out on the freed slot.
    func testCancellingAQueuedRequest() async throws {
        let connection = try DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig])
        let client = try KubeClient(connection: connection, options: KubeClientOptions(maxConnections: 1))
        let watch = Task { for try await _ in client.watch(IPPool.self, options: ListOptions()) {} }
        try await waitUntil { client.transport.activeTransfers == 1 }
        let queued = Task { try await client.list(IPAMBlock.self) }
        try await waitUntil { client.transport.activeTransfers == 2 }
        try await Task.sleep(nanoseconds: 200_000_000)
        XCTAssertEqual(client.transport.activeTransfers, 2, "the list stays queued while the watch holds the slot")
        queued.cancel()
        do {
            _ = try await queued.value
            XCTFail("a cancelled queued request answered")
        } catch is CancellationError {}
        XCTAssertEqual(client.transport.activeTransfers, 1, "only the watch is left")
        watch.cancel()
        _ = await watch.result
        let pools = try await client.list(IPPool.self)
        XCTAssertEqual(pools.items.count, 0)
        try await waitUntil { client.transport.activeTransfers == 0 }
    }

    private struct NotReached: Error, CustomStringConvertible {
        let description: String
    }

    private func waitUntil(timeout: TimeInterval = 10, line: UInt = #line, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else { throw NotReached(description: "the condition at line \(line) did not hold within \(timeout) s") }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
    }
}
