import Core
import Foundation
import XCTest

/// A Pod reflector against `calico-devcluster apiserver` stays equal to the server's state
/// (names and resourceVersions) across a dropped watch, a 410 after compaction, and a 5xx burst,
/// with changes made meanwhile.
final class ReflectorIntegrationTests: XCTestCase {
    private var server: DevServer!
    private var client: KubeClient!
    private let ns = "reflector-it"

    override func setUp() async throws {
        server = try DevServer.start()
        client = try KubeClient(connection: DatastoreConfig.load(environment: ["KUBECONFIG": server.tokenKubeconfig]))
        _ = try await client.create(Namespace(metadata: ObjectMeta(name: ns)))
    }

    override func tearDown() {
        server?.stop()
        if let dir = server?.dataDir { try? FileManager.default.removeItem(atPath: dir) }
    }

    private func pod(_ name: String) -> Pod {
        Pod(metadata: ObjectMeta(name: name, namespace: ns, labels: ["app": "it"]),
            spec: PodSpec(nodeName: "n1", containers: [Container(name: "c", image: "busybox")]))
    }

    /// Retries what an injected 5xx made fail; the test's own writes are not under test.
    private func retrying<R>(_ body: () async throws -> R) async throws -> R {
        for _ in 0..<20 {
            do { return try await body() } catch KubeError.api(let code, _) where code >= 500 {
                try await Task.sleep(nanoseconds: 20_000_000)
            }
        }
        return try await body()
    }

    /// Creates, relabels and deletes pods so that the reflector has something to miss.
    private func churn(_ round: Int) async throws {
        for i in 0..<5 { _ = try await retrying { try await client.create(pod("r\(round)-\(i)")) } }
        for i in 0..<3 {
            _ = try await retrying {
                try await client.patch(Pod.self, name: "p\(i + round * 3)", namespace: ns, mergePatch: .object(["metadata": .object(["labels": .object(["round": .string(String(round))])])]))
            }
        }
        for i in 0..<2 { try await retrying { try await client.delete(Pod.self, name: "r\(round)-\(i)", namespace: ns) } }
    }

    private func serverState() async throws -> [String: String] {
        let list = try await retrying { try await client.list(Pod.self, options: ListOptions(namespace: ns)) }
        return Dictionary(uniqueKeysWithValues: list.items.map { ("\(ns)/\($0.metadata.name)", $0.metadata.resourceVersion ?? "") })
    }

    private func cacheState(_ r: Reflector<Pod>) async -> [String: String] {
        await r.snapshot().mapValues { $0.metadata.resourceVersion ?? "" }
    }

    private func assertConsistent(_ r: Reflector<Pod>, _ what: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let deadline = Date().addingTimeInterval(15)
        var server: [String: String] = [:], cache: [String: String] = [:]
        while Date() < deadline {
            server = try await serverState()
            cache = await cacheState(r)
            if server == cache { return }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        XCTFail("\(what): cache \(cache.count) pods, server \(server.count); differ at \(Set(cache.map { "\($0)@\($1)" }).symmetricDifference(server.map { "\($0)@\($1)" }).sorted().prefix(10))", file: file, line: line)
    }

    func testReflectorStaysConsistentAcrossDropsGoneAndServerErrors() async throws {
        for i in 0..<30 { _ = try await client.create(pod("p\(i)")) }
        let reflector = Reflector<Pod>(api: client, options: ReflectorOptions(namespace: ns, pageSize: 7,
                                                                                 backoff: Backoff(base: 0.05, cap: 0.5)))
        await reflector.start()
        await reflector.waitForSync()
        try await assertConsistent(reflector, "initial sync")
        var lists = await reflector.listCount
        XCTAssertEqual(lists, 1)

        // 1. A dropped watch: resume from the last resourceVersion, no relist.
        try server.dropWatches()
        try await churn(1)
        try await assertConsistent(reflector, "after dropped watch")
        lists = await reflector.listCount
        XCTAssertEqual(lists, 1, "a dropped watch resumes without relisting")

        // 2. 410: writes to another kind move the version past the reflector's last pod event,
        // then compaction and a drop make its resume point too old (within the 2 s bookmark period).
        var round = 2
        repeat {
            _ = try await client.create(Namespace(metadata: ObjectMeta(name: "bump-\(round)")))
            try server.compact()
            try server.dropWatches()
            try await churn(round)
            try await assertConsistent(reflector, "after 410 (round \(round))")
            lists = await reflector.listCount
            round += 1
        } while lists < 2 && round < 6
        XCTAssertGreaterThanOrEqual(lists, 2, "a 410 relisted")

        // 3. A burst of 5xx: back off, then recover, without a relist.
        let listsBefore = lists
        try server.failNext(5, code: 500)
        try server.dropWatches()
        try await churn(round)
        try await assertConsistent(reflector, "after 5xx burst")
        lists = await reflector.listCount
        let failures = await reflector.failures
        XCTAssertEqual(lists, listsBefore, "5xx does not relist")
        XCTAssertEqual(failures, 0, "backoff reset after recovery")
        await reflector.stop()
    }
}
