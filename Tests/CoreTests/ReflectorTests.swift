import XCTest
@testable import Core

final class ReflectorTests: XCTestCase {
    private let fast = ReflectorOptions(pageSize: 2, backoff: Backoff(base: 0.01, cap: 0.05))

    private func pod(_ name: String, _ ns: String = "default", node: String = "n1") -> Pod {
        Pod(metadata: ObjectMeta(name: name, namespace: ns), spec: PodSpec(nodeName: node, containers: [Container(name: "c")]))
    }

    /// A fake with pods a, b, c and a started, synced reflector whose events are recorded.
    private func syncedReflector() async throws -> (InMemoryKubeAPI, Reflector<Pod>, EventRecorder) {
        let api = InMemoryKubeAPI()
        for n in ["a", "b", "c"] { _ = try await api.create(pod(n)) }
        let r = Reflector<Pod>(api: api, options: fast)
        let rec = EventRecorder()
        await rec.follow(await r.events())
        await r.start()
        await r.waitForSync()
        try await eventually("initial events") { await rec.lines.last == "synced" }
        _ = await rec.take()
        return (api, r, rec)
    }

    func testInitialSyncListsEveryPageThenReportsSynced() async throws {
        let api = InMemoryKubeAPI()
        for n in ["a", "b", "c", "d", "e"] { _ = try await api.create(pod(n)) }
        _ = try await api.create(pod("x", "other"))
        let r = Reflector<Pod>(api: api, options: fast)
        let rec = EventRecorder()
        await rec.follow(await r.events())
        let before = await r.isSynced
        XCTAssertFalse(before)
        await r.start()
        await r.waitForSync()
        try await eventually("synced event") { await rec.lines.last == "synced" }
        let lines = await rec.take()
        XCTAssertEqual(lines.count, 7)
        XCTAssertEqual(Set(lines.dropLast()), ["added default/a@101", "added default/b@102", "added default/c@103",
                                               "added default/d@104", "added default/e@105", "added other/x@106"])
        let synced = await r.isSynced
        let count = await r.count
        let rv = await r.resourceVersion
        XCTAssertTrue(synced)
        XCTAssertEqual(count, 6)
        XCTAssertEqual(rv, "106")
        XCTAssertEqual(api.listCalls, 3, "6 items in pages of 2")
        let b = await r.get(name: "b", namespace: "default")
        XCTAssertEqual(b?.spec.nodeName, "n1")
        await r.stop()
    }

    func testNamespaceOptionLimitsTheCache() async throws {
        let api = InMemoryKubeAPI()
        _ = try await api.create(pod("a"))
        _ = try await api.create(pod("x", "other"))
        var opts = fast
        opts.namespace = "other"
        let r = Reflector<Pod>(api: api, options: opts)
        await r.start()
        await r.waitForSync()
        _ = try await api.create(pod("y", "other"))
        _ = try await api.create(pod("b"))
        try await eventually("other/y") { await r.count == 2 }
        let keys = await r.snapshot().keys.sorted()
        XCTAssertEqual(keys, ["other/x", "other/y"])
        await r.stop()
    }

    func testWatchEventsAreAppliedAndBookmarksAdvanceTheVersion() async throws {
        let (api, r, rec) = try await syncedReflector()
        _ = try await api.create(pod("d"))
        var b = try await api.get(Pod.self, name: "b", namespace: "default")
        b.spec.nodeName = "n2"
        _ = try await api.update(b)
        try await api.delete(Pod.self, name: "c", namespace: "default")
        try await eventually("three changes") { await rec.lines.count == 3 }
        let lines = await rec.take()
        XCTAssertEqual(lines, ["added default/d@104", "updated default/b@102->105", "deleted default/c"])
        let cachedB = await r.get(name: "b", namespace: "default")
        XCTAssertEqual(cachedB?.spec.nodeName, "n2")
        let keys = await r.snapshot().keys.sorted()
        XCTAssertEqual(keys, ["default/a", "default/b", "default/d"])

        // Writes to another kind move the global version; a bookmark tells the reflector.
        _ = try await api.create(Namespace(metadata: ObjectMeta(name: "ns1")))
        api.bookmark()
        try await eventually("bookmark version") { await r.resourceVersion == "107" }
        let none = await rec.take()
        XCTAssertEqual(none, [], "a bookmark is not a change")
        await r.stop()
    }

    func testGoneRelistsAndEmitsOnlyRealDifferences() async throws {
        let (api, r, rec) = try await syncedReflector()
        api.partition()
        var a = try await api.get(Pod.self, name: "a", namespace: "default")
        a.metadata.labels = ["x": "1"]
        _ = try await api.update(a)
        try await api.delete(Pod.self, name: "b", namespace: "default")
        _ = try await api.create(pod("d"))
        api.compact()
        api.heal()
        try await eventually("relist") {
            let lists = await r.listCount
            let n = await rec.lines.count
            return lists == 2 && n == 3
        }
        try await Task.sleep(nanoseconds: 100_000_000)
        let lines = await rec.take().sorted()
        XCTAssertEqual(lines, ["added default/d@106", "deleted default/b", "updated default/a@101->104"],
                       "c did not change and must not be reported")
        let rv = await r.resourceVersion
        XCTAssertEqual(rv, "106")
        let labels = await r.get(name: "a", namespace: "default")?.metadata.labels
        XCTAssertEqual(labels, ["x": "1"])
        // The watch resumes from the relist's version and keeps working.
        _ = try await api.create(pod("e"))
        try await eventually("event after relist") { await rec.lines == ["added default/e@107"] }
        await r.stop()
    }

    func testDroppedWatchResumesFromTheLastVersionWithoutRelisting() async throws {
        let (api, r, rec) = try await syncedReflector()
        _ = try await api.create(pod("d"))
        try await eventually("d") { await rec.lines.count == 1 }
        api.dropWatches()
        _ = try await api.create(pod("e"))
        try await eventually("e after reconnect") { await rec.lines == ["added default/d@104", "added default/e@105"] }
        XCTAssertEqual(api.listCalls, 2, "one list of 3 items in pages of 2; no relist")
        XCTAssertEqual(api.watchFrom, ["103", "104"], "the second watch starts where the first stopped")
        let listCount = await r.listCount
        XCTAssertEqual(listCount, 1)
        await r.stop()
    }

    func testServerErrorBurstBacksOffThenRecovers() async throws {
        let (api, r, rec) = try await syncedReflector()
        let unavailable = KubeError.api(code: 503, APIStatus(message: "etcd leader changed", reason: "ServiceUnavailable", code: 503))
        api.failNext(5, with: unavailable)
        let started = Date()
        api.dropWatches()
        try await eventually("failures counted") { await r.failures >= 3 }
        let err = await r.lastError
        XCTAssertTrue(err?.contains("503") == true, err ?? "nil")
        try await eventually("watch back") { api.watcherCount == 1 }
        let elapsed = Date().timeIntervalSince(started)
        // Five retries wait at least half of 0.01+0.02+0.04+0.05+0.05 (plus one after the drop).
        XCTAssertGreaterThanOrEqual(elapsed, 0.08)
        XCTAssertEqual(api.watchFrom.count, 7, "first watch, 5 failed attempts, 1 success")
        _ = try await api.create(pod("d"))
        try await eventually("event after recovery") { await rec.lines == ["added default/d@104"] }
        let failures = await r.failures
        let after = await r.lastError
        let lists = await r.listCount
        XCTAssertEqual(failures, 0, "backoff resets after success")
        XCTAssertNil(after)
        XCTAssertEqual(lists, 1, "5xx does not relist")
        await r.stop()
    }

    func testStopEndsTheEventStreamAndTheWatch() async throws {
        let (api, r, _) = try await syncedReflector()
        let stream = await r.events()
        await r.stop()
        var seen: [String] = []
        for await e in stream { seen.append(EventRecorder.describe(e)) }
        XCTAssertEqual(seen.last, "synced", "a late subscriber gets the cache, then the stream ends")
        XCTAssertEqual(seen.count, 4)
        try await eventually("watch closed") { api.watcherCount == 0 }
    }
}
