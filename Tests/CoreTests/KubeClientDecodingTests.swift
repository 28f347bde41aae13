import XCTest
@testable import Core

/// A minimal typed resource for decoding tests.
private struct TestNode: KubeResource {
    static let resource = ResourceKind.node
    var metadata: ObjectMeta
    var spec: Spec?
    var raw: JSONValue?
    struct Spec: Codable, Sendable { var podCIDR: String? }
    enum CodingKeys: String, CodingKey { case metadata, spec }
}

/// A resource whose spec is required, as a bookmark (metadata only) cannot provide.
private struct StrictPool: KubeResource {
    static let resource = ResourceKind.ipPool
    var metadata: ObjectMeta
    var spec: Spec
    var raw: JSONValue?
    struct Spec: Codable, Sendable { var cidr: String }
    enum CodingKeys: String, CodingKey { case metadata, spec }
}

final class KubeClientDecodingTests: XCTestCase {
    func testListKeepsEachItemsRawJSONAndTheListMetadata() throws {
        let body = Data("""
        {"kind":"NodeList","apiVersion":"v1","metadata":{"resourceVersion":"77","continue":"next-page"},
         "items":[{"metadata":{"name":"n1","resourceVersion":"5"},"spec":{"podCIDR":"10.0.1.0/24"},"status":{"future":true}},
                  {"metadata":{"name":"n2"}}]}
        """.utf8)
        let list = try KubeListDecoder.decode(TestNode.self, from: body)
        XCTAssertEqual(list.items.map(\.metadata.name), ["n1", "n2"])
        XCTAssertEqual(list.items[0].spec?.podCIDR, "10.0.1.0/24")
        XCTAssertEqual(list.items[0].raw?["status"]?["future"], .bool(true))
        XCTAssertEqual(list.resourceVersion, "77")
        XCTAssertEqual(list.continueToken, "next-page")
        // The unknown field survives a write.
        XCTAssertEqual(try list.items[0].encodedForWrite()["status"]?["future"], .bool(true))
    }

    func testEmptyListAndEmptyContinue() throws {
        let list = try KubeListDecoder.decode(TestNode.self, from: Data(#"{"metadata":{"resourceVersion":"3","continue":""},"items":null}"#.utf8))
        XCTAssertTrue(list.items.isEmpty)
        XCTAssertNil(list.continueToken)
        XCTAssertThrowsError(try KubeListDecoder.decode(TestNode.self, from: Data("not json".utf8))) { error in
            guard case KubeError.decode = error else { return XCTFail("\(error)") }
        }
    }

    func testWatchEventKinds() throws {
        for (type, kind) in [("ADDED", WatchEvent<TestNode>.Kind.added), ("MODIFIED", .modified), ("DELETED", .deleted)] {
            let line = Data(#"{"type":"\#(type)","object":{"kind":"Node","metadata":{"name":"n1","resourceVersion":"9"}}}"#.utf8)
            let event = try XCTUnwrap(WatchEventDecoder.decode(TestNode.self, line: line))
            XCTAssertEqual(event.kind, kind)
            XCTAssertEqual(event.object.metadata.name, "n1")
            XCTAssertEqual(event.object.raw?["kind"], .string("Node"))
        }
    }

    func testBookmarkWithoutNameDecodesOrIsSkippedForStrictTypes() throws {
        let line = Data(#"{"type":"BOOKMARK","object":{"kind":"Node","metadata":{"resourceVersion":"123"}}}"#.utf8)
        let event = try XCTUnwrap(WatchEventDecoder.decode(TestNode.self, line: line))
        XCTAssertEqual(event.kind, .bookmark)
        XCTAssertEqual(event.object.metadata.resourceVersion, "123")
        XCTAssertNil(try WatchEventDecoder.decode(StrictPool.self, line: line))
    }

    func testErrorEvents() {
        let gone = Data(#"{"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"too old resource version","reason":"Expired","code":410}}"#.utf8)
        XCTAssertThrowsError(try WatchEventDecoder.decode(TestNode.self, line: gone)) { error in
            guard case KubeError.gone(let s) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(s.message, "too old resource version")
        }
        let other = Data(#"{"type":"ERROR","object":{"kind":"Status","message":"internal","code":500}}"#.utf8)
        XCTAssertThrowsError(try WatchEventDecoder.decode(TestNode.self, line: other)) { error in
            guard case KubeError.api(500, _) = error else { return XCTFail("\(error)") }
        }
    }

    func testMalformedEventsAreDecodeErrors() {
        for text in ["{", #"{"type":"ADDED"}"#, #"{"type":"WHAT","object":{}}"#, #"{"type":"ADDED","object":{"metadata":{}}}"#] {
            XCTAssertThrowsError(try WatchEventDecoder.decode(TestNode.self, line: Data(text.utf8)), text) { error in
                guard case KubeError.decode = error else { return XCTFail("\(text): \(error)") }
            }
        }
    }
}
