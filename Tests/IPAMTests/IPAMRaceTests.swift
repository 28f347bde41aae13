import Core
import Foundation
import IPAM
import XCTest

/// A KubeAPI in front of the in-memory server that makes races likely: it suspends before
/// every call so that concurrent allocators interleave, and before some updates it writes the
/// object first itself (as another node would), so that the update meets a real conflict.
/// The injected writes have a budget: unbounded, they would invalidate every reader forever.
final class InterleavingKubeAPI: KubeAPI, @unchecked Sendable {
    let inner: InMemoryKubeAPI
    private let lock = NSLock()
    private var counter = 0
    private(set) var injectedConflicts = 0
    /// Every `conflictEvery`-th update is preceded by a competing write, `budget` times.
    let conflictEvery: Int
    private var budget: Int

    init(_ inner: InMemoryKubeAPI, conflictEvery: Int, budget: Int = 100) {
        self.inner = inner
        self.conflictEvery = conflictEvery
        self.budget = budget
    }

    private func interleave() async {
        await Task.yield()
        if Int.random(in: 0..<4) == 0 { try? await Task.sleep(nanoseconds: UInt64.random(in: 0..<200_000)) }
    }

    func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws -> T {
        await interleave()
        return try await inner.get(type, name: name, namespace: namespace)
    }

    func listPage<T: KubeResource>(_ type: T.Type, options: ListOptions) async throws -> ResourceList<T> {
        await interleave()
        return try await inner.listPage(type, options: options)
    }

    func watch<T: KubeResource>(_ type: T.Type, options: ListOptions) -> AsyncThrowingStream<WatchEvent<T>, Error> {
        inner.watch(type, options: options)
    }

    func create<T: KubeResource>(_ object: T) async throws -> T {
        await interleave()
        return try await inner.create(object)
    }

    func update<T: KubeResource>(_ object: T) async throws -> T {
        await interleave()
        let compete = lock.withLock { () -> Bool in
            counter += 1
            guard counter % conflictEvery == 0, budget > 0 else { return false }
            budget -= 1
            return true
        }
        if compete, let current = try? await inner.get(T.self, name: object.metadata.name, namespace: object.metadata.namespace),
           (try? await inner.update(current)) != nil {
            lock.withLock { injectedConflicts += 1 }
        }
        return try await inner.update(object)
    }

    func patch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, mergePatch: JSONValue) async throws -> T {
        await interleave()
        return try await inner.patch(type, name: name, namespace: namespace, mergePatch: mergePatch)
    }

    func delete<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws {
        await interleave()
        try await inner.delete(type, name: name, namespace: namespace)
    }
}

final class IPAMRaceTests: XCTestCase {
    /// Two nodes (and, harder than production, many requests per node without the host lock)
    /// allocate at once from a pool just big enough: claims race, blocks fill, the last ones
    /// borrow. Never a duplicate; the blocks and handles agree; releasing everything leaves
    /// nothing allocated.
    func testTwoNodesRacingNeverDuplicate() async throws {
        let store = InMemoryKubeAPI()
        let api = InterleavingKubeAPI(store, conflictEvery: 3)
        _ = try await store.create(IPPool(metadata: ObjectMeta(name: "p"), spec: IPPoolSpec(cidr: "10.20.0.0/26", blockSize: 29)))
        let ipam = CalicoIPAM(api: api, maxAttempts: 1000)
        let perNode = 30
        let requests = ["node-a", "node-b"].flatMap { node in
            (0..<perNode).map { AssignRequest(handleID: "k8s-pod-network.\(node)-\($0)", node: node, attributes: ["pod": "p\($0)"],
                                              settings: CalicoIPAMSettings()) }
        }

        let results = try await withThrowingTaskGroup(of: (String, [IPNet]).self) { group in
            for r in requests { group.addTask { (r.handleID, try await ipam.assign(r)) } }
            var out: [String: [IPNet]] = [:]
            for try await (h, ips) in group { out[h] = ips }
            return out
        }
        XCTAssertGreaterThan(api.injectedConflicts, 0)
        let all = results.values.flatMap { $0 }
        XCTAssertEqual(all.count, 2 * perNode)
        XCTAssertEqual(Set(all).count, all.count, "an address was handed out twice")

        // Every address is recorded once, under its handle, and the handles' counts agree.
        let blocks = try await store.list(IPAMBlock.self).items
        var recorded: [String: [IPNet]] = [:]
        var counts: [String: [String: Int]] = [:]
        for b in blocks {
            let net = IPNet(parsing: b.spec.cidr)!
            XCTAssertEqual(b.spec.allocations.compactMap { $0 }.count + b.spec.unallocated.count, b.spec.allocations.count)
            XCTAssertEqual(Set(b.spec.unallocated).count, b.spec.unallocated.count)
            for (h, n) in b.spec.handleCounts {
                counts[h, default: [:]][b.spec.cidr] = n
                recorded[h, default: []] += b.spec.ordinals(of: h).map { IPAMAddressMath.address(in: net, ordinal: $0) }
            }
        }
        for (h, ips) in results { XCTAssertEqual(recorded[h], ips, h) }
        for h in try await store.list(IPAMHandle.self).items { XCTAssertEqual(h.spec.block, counts[h.metadata.name], h.metadata.name) }
        let awaited1 = try await store.list(IPAMHandle.self).items.count
        XCTAssertEqual(awaited1, 2 * perNode)

        // Each block's affinity is backed by that node's confirmed BlockAffinity and no other node's.
        let affinities = try await store.list(BlockAffinity.self).items
        for b in blocks {
            let owners = affinities.filter { $0.spec.cidr == b.spec.cidr }.map { "host:" + $0.spec.node }
            XCTAssertEqual(owners, [b.spec.affinity!], b.spec.cidr)
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for r in requests { group.addTask { try await ipam.release(handle: r.handleID) } }
            try await group.waitForAll()
        }
        let awaited2 = try await store.list(IPAMHandle.self).items.count
        XCTAssertEqual(awaited2, 0)
        for b in try await store.list(IPAMBlock.self).items { XCTAssertTrue(b.spec.isEmpty, b.spec.cidr) }
    }

    /// Two nodes racing for the same free block: exactly one claims it, the other claims the next.
    func testClaimRaceHasOneWinner() async throws {
        for _ in 0..<20 {
            let store = InMemoryKubeAPI()
            let api = InterleavingKubeAPI(store, conflictEvery: 2)
            _ = try await store.create(IPPool(metadata: ObjectMeta(name: "p"), spec: IPPoolSpec(cidr: "10.30.0.0/24", blockSize: 26)))
            let ipam = CalicoIPAM(api: api, maxAttempts: 200)
            async let a = ipam.assign(AssignRequest(handleID: "h-a", node: "a", attributes: [:], settings: CalicoIPAMSettings()))
            async let b = ipam.assign(AssignRequest(handleID: "h-b", node: "b", attributes: [:], settings: CalicoIPAMSettings()))
            let (ra, rb) = try await (a, b)
            XCTAssertNotEqual(ra, rb)
            let blocks = try await store.list(IPAMBlock.self).items
            XCTAssertEqual(Set(blocks.compactMap(\.spec.affinity)), ["host:a", "host:b"], "each node has its own block")
            let awaited3 = try await store.list(BlockAffinity.self).items.count
            XCTAssertEqual(awaited3, 2, "the loser removed its pending affinity")
        }
    }
}
