import XCTest
@testable import Core

final class ReflectorCoreTests: XCTestCase {
    private func pod(_ name: String, rv: String) -> Pod {
        var p = Pod(metadata: ObjectMeta(name: name, namespace: "ns"))
        p.metadata.resourceVersion = rv
        return p
    }

    func testReplaceReportsOnlyRealDifferences() {
        var cache = ReflectorCache<Pod>()
        XCTAssertEqual(cache.replace(with: [pod("a", rv: "1"), pod("b", rv: "2"), pod("c", rv: "3")]).count, 3)
        let events = cache.replace(with: [pod("a", rv: "1"), pod("b", rv: "5"), pod("d", rv: "6")])
        XCTAssertEqual(events.map(EventRecorder.describe).sorted(), ["added ns/d@6", "deleted ns/c", "updated ns/b@2->5"])
        XCTAssertEqual(cache.items.keys.sorted(), ["ns/a", "ns/b", "ns/d"])
    }

    func testApplyIgnoresReplaysBookmarksAndUnknownDeletes() {
        var cache = ReflectorCache<Pod>()
        XCTAssertNotNil(cache.apply(WatchEvent(kind: .added, object: pod("a", rv: "1"))))
        XCTAssertNil(cache.apply(WatchEvent(kind: .added, object: pod("a", rv: "1"))), "same version replayed")
        XCTAssertEqual(cache.apply(WatchEvent(kind: .modified, object: pod("a", rv: "2"))).map(EventRecorder.describe), "updated ns/a@1->2")
        XCTAssertEqual(cache.apply(WatchEvent(kind: .modified, object: pod("z", rv: "3"))).map(EventRecorder.describe), "added ns/z@3")
        XCTAssertNil(cache.apply(WatchEvent(kind: .bookmark, object: pod("", rv: "9"))))
        XCTAssertNil(cache.apply(WatchEvent(kind: .deleted, object: pod("q", rv: "9"))))
        XCTAssertEqual(cache.apply(WatchEvent(kind: .deleted, object: pod("a", rv: "4"))).map(EventRecorder.describe), "deleted ns/a")
        XCTAssertEqual(cache.count, 1)
    }

    func testClusterScopedKeyIsTheName() {
        XCTAssertEqual(ReflectorCache<K8sNode>.key(ObjectMeta(name: "n1")), "n1")
        XCTAssertEqual(ReflectorCache<Pod>.key(ObjectMeta(name: "p", namespace: "ns")), "ns/p")
    }

    func testBackoffGrowsToTheCapWithJitter() {
        let b = Backoff(base: 0.1, cap: 30)
        XCTAssertEqual((0...10).map { b.ceiling(attempt: $0) }, [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30, 30])
        XCTAssertEqual(b.ceiling(attempt: 1000), 30)
        var rng = SystemRandomNumberGenerator()
        for attempt in 0..<12 {
            let d = b.delay(attempt: attempt, using: &rng)
            XCTAssertGreaterThanOrEqual(d, b.ceiling(attempt: attempt) / 2)
            XCTAssertLessThanOrEqual(d, b.ceiling(attempt: attempt))
        }
        let delays = Set((0..<20).map { _ in b.delay(attempt: 5) })
        XCTAssertGreaterThan(delays.count, 1, "jittered")
    }
}
