import Core
import Foundation
import XCTest
@testable import DevCluster

final class StoreTests: XCTestCase {
    private func pod(_ name: String, ns: String = "default", labels: [String: String] = [:], node: String? = nil) -> JSONValue {
        var meta: [String: JSONValue] = ["name": .string(name), "namespace": .string(ns)]
        if !labels.isEmpty { meta["labels"] = .object(labels.mapValues { .string($0) }) }
        var spec: [String: JSONValue] = ["containers": .array([.object(["name": .string("c")])])]
        if let node { spec["nodeName"] = .string(node) }
        return .object(["apiVersion": .string("v1"), "kind": .string("Pod"), "metadata": .object(meta), "spec": .object(spec)])
    }

    func testCreateSetsMetadataAndResourceVersionIncreases() throws {
        var s = Store()
        let start = s.resourceVersion
        let a = try s.create(.pod, namespace: "default", body: pod("a"), now: Date()).object
        let b = try s.create(.pod, namespace: "default", body: pod("b"), now: Date()).object
        XCTAssertEqual(a.resourceVersion, start + 1)
        XCTAssertEqual(b.resourceVersion, start + 2)
        XCTAssertEqual(a.value.metaResourceVersion, String(start + 1))
        XCTAssertNotNil(a.value["metadata"]?["uid"]?.stringValue)
        XCTAssertNotNil(a.value["metadata"]?["creationTimestamp"]?.stringValue)
        XCTAssertEqual(a.value["metadata"]?["generation"]?.intValue, 1)
        let updated = try s.patch(.pod, namespace: "default", name: "a", patch: .object(["spec": .object(["nodeName": .string("n1")])])).object
        XCTAssertGreaterThan(updated.resourceVersion, b.resourceVersion)
        XCTAssertEqual(updated.value["metadata"]?["generation"]?.intValue, 2)
        let deleted = try s.delete(.pod, namespace: "default", name: "b").object
        XCTAssertGreaterThan(deleted.resourceVersion, updated.resourceVersion)
    }

    func testCreateErrors() throws {
        var s = Store()
        _ = try s.create(.pod, namespace: "default", body: pod("a"), now: Date())
        XCTAssertThrowsError(try s.create(.pod, namespace: "default", body: pod("a"), now: Date())) {
            XCTAssertEqual(($0 as? StoreError)?.code, 409)
            XCTAssertEqual(($0 as? StoreError)?.reason, "AlreadyExists")
        }
        XCTAssertThrowsError(try s.create(.pod, namespace: "missing", body: pod("x", ns: "missing"), now: Date())) {
            XCTAssertEqual(($0 as? StoreError)?.code, 404)
        }
        XCTAssertThrowsError(try s.create(.pod, namespace: "default", body: .array([]), now: Date())) {
            XCTAssertEqual(($0 as? StoreError)?.code, 400)
        }
        XCTAssertThrowsError(try s.create(.pod, namespace: "default", body: .object(["metadata": .object([:])]), now: Date())) {
            XCTAssertEqual(($0 as? StoreError)?.code, 422)
        }
        XCTAssertThrowsError(try s.get(.pod, namespace: "default", name: "nope")) {
            XCTAssertEqual(($0 as? StoreError)?.code, 404)
            XCTAssertEqual(($0 as? StoreError)?.description, "pods \"nope\" not found")
        }
        // kube-system exists from the start; a created namespace makes room for pods.
        XCTAssertNoThrow(try s.create(.pod, namespace: "kube-system", body: pod("k", ns: "kube-system"), now: Date()))
        _ = try s.create(.namespace, namespace: nil, body: .object(["metadata": .object(["name": .string("team")])]), now: Date())
        XCTAssertNoThrow(try s.create(.pod, namespace: "team", body: pod("t", ns: "team"), now: Date()))
    }

    func testStaleUpdateConflicts() throws {
        var s = Store()
        let created = try s.create(.pod, namespace: "default", body: pod("a"), now: Date()).object
        var fresh = created.value
        fresh["spec"]?["nodeName"] = .string("n1")
        let updated = try s.update(.pod, namespace: "default", name: "a", body: fresh).object
        XCTAssertEqual(updated.value["spec"]?["nodeName"]?.stringValue, "n1")
        var stale = created.value
        stale["spec"]?["nodeName"] = .string("n2")
        XCTAssertThrowsError(try s.update(.pod, namespace: "default", name: "a", body: stale)) {
            XCTAssertEqual($0 as? StoreError, .conflict(.pod, "a"))
            XCTAssertEqual(($0 as? StoreError)?.code, 409)
        }
        // An update that changes nothing keeps the resourceVersion and emits no event.
        let same = try s.update(.pod, namespace: "default", name: "a", body: updated.value)
        XCTAssertEqual(same.object.resourceVersion, updated.resourceVersion)
        XCTAssertTrue(same.events.isEmpty)
    }

    func testMergePatchAddsAndRemovesLabels() throws {
        var s = Store()
        _ = try s.create(.pod, namespace: "default", body: pod("a", labels: ["app": "web", "tier": "x"]), now: Date())
        let patched = try s.patch(.pod, namespace: "default", name: "a",
                                  patch: .object(["metadata": .object(["labels": .object(["tier": .null, "color": .string("red")])])])).object
        XCTAssertEqual(patched.value.metaLabels, ["app": .string("web"), "color": .string("red")])
        XCTAssertEqual(patched.value.metaName, "a")
        XCTAssertEqual(patched.value["metadata"]?["generation"]?.intValue, 1, "label changes do not bump generation")
        XCTAssertThrowsError(try s.patch(.pod, namespace: "default", name: "a",
                                         patch: .object(["metadata": .object(["resourceVersion": .string("1")])])))
    }

    func testStatusSubresourceOnlyTakesStatus() throws {
        var s = Store()
        _ = try s.create(.pod, namespace: "default", body: pod("a"), now: Date())
        var body = pod("a", node: "elsewhere")
        body["status"] = .object(["phase": .string("Running")])
        let o = try s.update(.pod, namespace: "default", name: "a", body: body, statusOnly: true).object
        XCTAssertEqual(o.value["status"]?["phase"]?.stringValue, "Running")
        XCTAssertNil(o.value["spec"]?["nodeName"])
    }

    func testListSelectorsAndPagination() throws {
        var s = Store()
        for i in 0..<25 {
            _ = try s.create(.pod, namespace: "default", body: pod(String(format: "p%02d", i), labels: ["i": String(i % 3), "app": "x"], node: "n\(i % 2)"), now: Date())
        }
        var filter = ObjectFilter(kind: .pod, namespace: "default")
        var names: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try s.list(filter, limit: 10, continueToken: token)
            names += page.items.map { $0.value.metaName }
            token = page.continueToken
            pages += 1
            if token != nil { XCTAssertEqual(page.remainingItemCount, 25 - names.count) }
        } while token != nil
        XCTAssertEqual(pages, 3)
        XCTAssertEqual(names, (0..<25).map { String(format: "p%02d", $0) })

        filter.labels = try LabelSelector(parsing: "i in (0,1),app=x")
        filter.fields = try FieldSelector(parsing: "spec.nodeName=n0")
        let selected = try s.list(filter).items.map { $0.value.metaName }
        XCTAssertEqual(selected, (0..<25).filter { $0 % 3 != 2 && $0 % 2 == 0 }.map { String(format: "p%02d", $0) })
        XCTAssertThrowsError(try s.list(filter, continueToken: "garbage!"))
        XCTAssertEqual(try s.list(ObjectFilter(kind: .pod, namespace: "other")).items.count, 0)
    }

    func testHistoryReplayAndGone() throws {
        var s = Store(historyCapacity: 5)
        let start = s.resourceVersion
        for i in 0..<3 { _ = try s.create(.pod, namespace: "default", body: pod("p\(i)"), now: Date()) }
        XCTAssertEqual(try s.events(after: start).map(\.resourceVersion), [start + 1, start + 2, start + 3])
        XCTAssertEqual(try s.events(after: start + 2).map { $0.object.value.metaName }, ["p2"])
        for i in 3..<8 { _ = try s.create(.pod, namespace: "default", body: pod("p\(i)"), now: Date()) }
        // Capacity 5: only the last five events remain; anything older is 410 Expired.
        XCTAssertEqual(try s.events(after: start + 3).count, 5)
        XCTAssertThrowsError(try s.events(after: start + 2)) {
            XCTAssertEqual(($0 as? StoreError)?.code, 410)
            XCTAssertEqual(($0 as? StoreError)?.reason, "Expired")
        }
        s.history.compact(through: s.resourceVersion)
        XCTAssertThrowsError(try s.events(after: start + 7))
        XCTAssertEqual(try s.events(after: s.resourceVersion).count, 0)
    }

    func testWatchFilterSeesSelectorTransitions() throws {
        var s = Store()
        _ = try s.create(.pod, namespace: "default", body: pod("a", labels: ["app": "web"]), now: Date())
        let filter = ObjectFilter(kind: .pod, namespace: nil, labels: try LabelSelector(parsing: "app=web"))
        let out = try s.patch(.pod, namespace: "default", name: "a", patch: .object(["metadata": .object(["labels": .object(["app": .string("db")])])]))
        XCTAssertEqual(filter.view(of: out.events[0]), .deleted)
        let back = try s.patch(.pod, namespace: "default", name: "a", patch: .object(["metadata": .object(["labels": .object(["app": .string("web")])])]))
        XCTAssertEqual(filter.view(of: back.events[0]), .added)
        XCTAssertNil(ObjectFilter(kind: .node).view(of: back.events[0]))
    }

    func testNamespaceDeletionCascades() throws {
        var s = Store()
        _ = try s.create(.namespace, namespace: nil, body: .object(["metadata": .object(["name": .string("team")])]), now: Date())
        _ = try s.create(.pod, namespace: "team", body: pod("a", ns: "team"), now: Date())
        let m = try s.delete(.namespace, namespace: nil, name: "team")
        XCTAssertEqual(m.events.map(\.type), [.deleted, .deleted])
        XCTAssertEqual(s.count(.pod), 0)
    }
}
