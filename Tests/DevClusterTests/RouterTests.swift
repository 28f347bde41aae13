import Core
import Foundation
import XCTest
@testable import DevCluster

/// Collects what a watch would stream.
private final class RecordingSink: WatchSink, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [WatchItem] = []
    private(set) var aborted = false
    var items: [WatchItem] { lock.withLock { stored } }
    func enqueue(_ items: [WatchItem]) { lock.withLock { stored += items } }
    func abort() { lock.withLock { aborted = true } }

    var eventNames: [String] {
        items.compactMap {
            if case .event(let t, let o) = $0 { return "\(t.rawValue) \(o.value.metaName)" }
            return nil
        }
    }
}

final class RouterTests: XCTestCase {
    private var store: SharedStore!
    private var router: APIRouter!

    override func setUp() {
        store = SharedStore(Store())
        router = APIRouter(store: store, serverAddress: "127.0.0.1:6443")
    }

    private func call(_ method: String, _ uri: String, _ body: String = "", accept: String = "application/json",
                      contentType: String = "application/json") -> (Int, JSONValue) {
        switch router.handle(APIRequest(method: method, uri: uri, accept: accept, contentType: contentType, body: Array(body.utf8))) {
        case .json(let s, let v): return (s, v)
        case .bytes(let s, _, let b): return (s, (try? JSONWire.parse(b)) ?? .string(String(decoding: b, as: UTF8.self)))
        case .watch: return (-1, .null)
        }
    }

    private func assertStatus(_ r: (Int, JSONValue), _ code: Int, _ reason: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.0, code, file: file, line: line)
        XCTAssertEqual(r.1["kind"]?.stringValue, "Status", file: file, line: line)
        XCTAssertEqual(r.1["apiVersion"]?.stringValue, "v1", file: file, line: line)
        XCTAssertEqual(r.1["status"]?.stringValue, "Failure", file: file, line: line)
        XCTAssertEqual(r.1["reason"]?.stringValue, reason, file: file, line: line)
        XCTAssertEqual(r.1["code"]?.intValue, Int64(code), file: file, line: line)
        XCTAssertNotNil(r.1["message"]?.stringValue, file: file, line: line)
    }

    func testDiscovery() {
        XCTAssertEqual(call("GET", "/api").1["versions"], .array([.string("v1")]))
        let groups = call("GET", "/apis").1["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        XCTAssertEqual(groups, ["networking.k8s.io", "crd.projectcalico.org"])
        let core = call("GET", "/api/v1").1["resources"]?.arrayValue ?? []
        let pods = core.first { $0["name"]?.stringValue == "pods" }
        XCTAssertEqual(pods?["kind"]?.stringValue, "Pod")
        XCTAssertEqual(pods?["namespaced"]?.boolValue, true)
        XCTAssertEqual(pods?["singularName"]?.stringValue, "pod")
        XCTAssertEqual(pods?["shortNames"], .array([.string("po")]))
        let calico = call("GET", "/apis/crd.projectcalico.org/v1").1["resources"]?.arrayValue ?? []
        XCTAssertEqual(calico.count, ResourceKind.all.filter { $0.group == ResourceKind.calicoGroup }.count)
        XCTAssertEqual(call("GET", "/version").1["gitVersion"]?.stringValue, "v1.32.0")
        XCTAssertEqual(call("GET", "/healthz").0, 200)
        XCTAssertNotNil(call("GET", "/openapi/v3").1["paths"]?["apis/crd.projectcalico.org/v1"])
        assertStatus(call("GET", "/apis/example.com/v1"), 404, "NotFound")
    }

    func testCrudAndErrorsAreStatusObjects() {
        let created = call("POST", "/apis/crd.projectcalico.org/v1/bgppeers", #"{"metadata":{"name":"p1"},"spec":{"asNumber":64512}}"#)
        XCTAssertEqual(created.0, 201)
        XCTAssertEqual(created.1["apiVersion"]?.stringValue, "crd.projectcalico.org/v1")
        assertStatus(call("POST", "/apis/crd.projectcalico.org/v1/bgppeers", #"{"metadata":{"name":"p1"}}"#), 409, "AlreadyExists")
        assertStatus(call("POST", "/apis/crd.projectcalico.org/v1/bgppeers", "{nope"), 400, "BadRequest")
        assertStatus(call("POST", "/api/v1/namespaces/default/pods", "\u{0}k8s", contentType: "application/vnd.kubernetes.protobuf"), 415, "UnsupportedMediaType")
        assertStatus(call("GET", "/api/v1/namespaces/default/pods/ghost"), 404, "NotFound")
        let stale = #"{"metadata":{"name":"p1","resourceVersion":"1"},"spec":{}}"#
        assertStatus(call("PUT", "/apis/crd.projectcalico.org/v1/bgppeers/p1", stale), 409, "Conflict")
        let patched = call("PATCH", "/apis/crd.projectcalico.org/v1/bgppeers/p1", #"{"metadata":{"labels":{"a":"b"}}}"#,
                           contentType: "application/strategic-merge-patch+json")
        XCTAssertEqual(patched.0, 200)
        XCTAssertEqual(patched.1.metaLabels?["a"]?.stringValue, "b")
        XCTAssertEqual(patched.1["spec"]?["asNumber"]?.intValue, 64512)
        XCTAssertEqual(call("DELETE", "/apis/crd.projectcalico.org/v1/bgppeers/p1").0, 200)
        assertStatus(call("DELETE", "/apis/crd.projectcalico.org/v1/bgppeers/p1"), 404, "NotFound")
    }

    func testDryRunStoresNothing() {
        let rv = store.resourceVersion
        let r = call("POST", "/api/v1/namespaces?dryRun=All", #"{"metadata":{"name":"dry"}}"#)
        XCTAssertEqual(r.0, 201)
        XCTAssertEqual(r.1.metaName, "dry")
        XCTAssertEqual(store.resourceVersion, rv)
        assertStatus(call("GET", "/api/v1/namespaces/dry"), 404, "NotFound")
    }

    func testTableOutput() {
        _ = call("POST", "/api/v1/namespaces/default/pods", #"{"metadata":{"name":"web"},"spec":{"nodeName":"n1","containers":[{"name":"c"}]}}"#)
        let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        let table = call("GET", "/api/v1/namespaces/default/pods", accept: accept).1
        XCTAssertEqual(table["kind"]?.stringValue, "Table")
        XCTAssertEqual(table["apiVersion"]?.stringValue, "meta.k8s.io/v1")
        let columns = table["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        XCTAssertTrue(["Name", "Status", "Node", "Age"].allSatisfy(columns.contains), "\(columns)")
        let row = table["rows"]?.arrayValue?.first
        XCTAssertEqual(row?["cells"]?.arrayValue?.first?.stringValue, "web")
        XCTAssertEqual(row?["object"]?["kind"]?.stringValue, "PartialObjectMetadata")
        XCTAssertEqual(row?["object"]?["metadata"]?["name"]?.stringValue, "web")
    }

    func testListPaginationThroughRouter() {
        for i in 0..<5 { _ = call("POST", "/api/v1/namespaces", #"{"metadata":{"name":"ns\#(i)"}}"#) }
        let first = call("GET", "/api/v1/namespaces?limit=3").1
        XCTAssertEqual(first["kind"]?.stringValue, "NamespaceList")
        XCTAssertEqual(first["items"]?.arrayValue?.count, 3)
        let token = first["metadata"]?["continue"]?.stringValue ?? ""
        XCTAssertFalse(token.isEmpty)
        let escaped = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token
        let second = call("GET", "/api/v1/namespaces?limit=3&continue=\(escaped)").1
        XCTAssertEqual(second["items"]?.arrayValue?.count, 3)  // 7 namespaces with default and kube-system
        let token2 = second["metadata"]?["continue"]?.stringValue ?? ""
        let third = call("GET", "/api/v1/namespaces?limit=3&continue=\(token2.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")").1
        XCTAssertEqual(third["items"]?.arrayValue?.count, 1)
        XCTAssertNil(third["metadata"]?["continue"])
    }

    func testWatchReplaysThenStreamsAndExpires() throws {
        let sink = RecordingSink()
        let start = store.resourceVersion
        _ = call("POST", "/api/v1/namespaces/default/pods", #"{"metadata":{"name":"a","labels":{"app":"web"}}}"#)
        let filter = ObjectFilter(kind: .pod, labels: try LabelSelector(parsing: "app=web"))
        guard case .watch(let w) = router.handle(APIRequest(method: "GET", uri: "/api/v1/pods?watch=true&labelSelector=app%3Dweb&resourceVersion=\(start)")) else {
            return XCTFail("not a watch")
        }
        XCTAssertEqual(w.resourceVersion, String(start))
        guard case .watch(let single) = router.handle(APIRequest(method: "GET", uri: "/api/v1/namespaces/default/pods/a?watch=1")) else {
            return XCTFail("an object path with watch=1 is a watch")
        }
        XCTAssertEqual(single.filter.fields, try FieldSelector(parsing: "metadata.name=a"))
        XCTAssertEqual(single.filter.namespace, "default")
        let id = try XCTUnwrap(try store.watch(filter, from: String(start), sink: sink))
        _ = call("POST", "/api/v1/namespaces/default/pods", #"{"metadata":{"name":"b","labels":{"app":"db"}}}"#)
        _ = call("PATCH", "/api/v1/namespaces/default/pods/a", #"{"metadata":{"labels":{"app":"db"}}}"#, contentType: "application/merge-patch+json")
        store.bookmark(id, kind: .pod)
        XCTAssertEqual(sink.eventNames, ["ADDED a", "DELETED a"])
        if case .bookmark(let rv, _)? = sink.items.last { XCTAssertEqual(rv, store.resourceVersion) } else { XCTFail("no bookmark") }

        XCTAssertEqual(store.dropWatches(), 1)
        XCTAssertTrue(sink.aborted)

        _ = store.compact()
        let late = RecordingSink()
        XCTAssertNil(try store.watch(filter, from: String(start), sink: late))
        if case .error(let e)? = late.items.first { XCTAssertEqual(e.code, 410) } else { XCTFail("expected 410") }
        // Without a resourceVersion a watch starts with the current objects.
        let fresh = RecordingSink()
        _ = try store.watch(ObjectFilter(kind: .pod), from: nil, sink: fresh)
        XCTAssertEqual(fresh.eventNames, ["ADDED a", "ADDED b"])
    }

    func testFailNext() {
        _ = router.faults.handle(APIRequest(method: "POST", uri: "/devcluster/faults/fail-next?count=2&code=503"), store: store)
        assertStatus(call("GET", "/api/v1/pods"), 503, "ServiceUnavailable")
        assertStatus(call("GET", "/api/v1/pods"), 503, "ServiceUnavailable")
        XCTAssertEqual(call("GET", "/api/v1/pods").0, 200)
    }

    func testPersistenceRoundTrip() throws {
        let dir = NSTemporaryDirectory() + "devcluster-persist-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = call("POST", "/apis/crd.projectcalico.org/v1/ippools", #"{"metadata":{"name":"pool"},"spec":{"cidr":"10.0.0.0/16"}}"#)
        _ = call("POST", "/api/v1/namespaces/default/pods", #"{"metadata":{"name":"a"}}"#)
        let path = dir + "/state.jsonl"
        try Persistence.write(store.snapshot, to: path)
        let loaded = try XCTUnwrap(try Persistence.load(path: path, historyCapacity: 10))
        XCTAssertEqual(loaded.resourceVersion, store.resourceVersion)
        XCTAssertEqual(try loaded.get(.ipPool, namespace: nil, name: "pool").value["spec"]?["cidr"]?.stringValue, "10.0.0.0/16")
        XCTAssertEqual(try loaded.get(.pod, namespace: "default", name: "a").value.metaName, "a")
        // History does not survive a restart: resuming from before it is 410.
        XCTAssertThrowsError(try loaded.events(after: 1))
    }
}
