import XCTest
@testable import Core

final class JSONValueTests: XCTestCase {
    private func json(_ text: String) throws -> JSONValue { try JSONValue(data: Data(text.utf8)) }

    func testMergePatchFollowsRFC7386() throws {
        let base = try json(#"{"a":"b","c":{"d":"e","f":"g"},"keep":[1,2]}"#)
        let patch = try json(#"{"a":"z","c":{"f":null},"new":true}"#)
        XCTAssertEqual(base.mergePatched(with: patch), try json(#"{"a":"z","c":{"d":"e"},"keep":[1,2],"new":true}"#))
        // A non-object patch replaces the whole document.
        XCTAssertEqual(base.mergePatched(with: .array([.int(1)])), .array([.int(1)]))
    }

    func testOverlayKeepsUnmodelledFieldsInObjectsAndEqualLengthArrays() throws {
        let raw = try json(#"{"spec":{"containers":[{"name":"a","env":[{"name":"X"}]}],"future":1},"status":{"x":2}}"#)
        let typed = try json(#"{"spec":{"containers":[{"name":"b"}]}}"#)
        XCTAssertEqual(raw.overlaid(with: typed),
                       try json(#"{"spec":{"containers":[{"name":"b","env":[{"name":"X"}]}],"future":1},"status":{"x":2}}"#))
    }

    func testOverlayReplacesArraysWhoseLengthChanged() throws {
        let raw = try json(#"{"ips":["a","b"]}"#)
        XCTAssertEqual(raw.overlaid(with: try json(#"{"ips":["c"]}"#)), try json(#"{"ips":["c"]}"#))
    }

    func testIntegersSurviveARoundTripExactly() throws {
        let value = try json(#"{"big":9007199254740993,"neg":-5,"f":1.5}"#)
        XCTAssertEqual(value["big"]?.intValue, 9_007_199_254_740_993)
        XCTAssertEqual(try JSONValue(data: value.data()), value)
    }
}

final class JSONValueDecoderTests: XCTestCase {
    private struct Sample: Codable, Equatable {
        var name: String
        var count: Int
        var ratio: Double
        var on: Bool
        var tags: [String]
        var nested: [String: Int]?
        var missing: String?
        var ports: [UInt16]
        var any: JSONValue?
    }

    func testDecodesLikeJSONDecoder() throws {
        let text = #"{"name":"a","count":3,"ratio":2,"on":true,"tags":["x","y"],"nested":{"k":1},"ports":[80,443],"any":{"z":[1,"q"]}}"#
        let value = try JSONValue(data: Data(text.utf8))
        let direct = try JSONValueDecoder().decode(Sample.self, from: value)
        XCTAssertEqual(direct, try JSONDecoder().decode(Sample.self, from: Data(text.utf8)))
        XCTAssertNil(direct.missing)
    }

    func testErrorsNameThePath() throws {
        let value = try JSONValue(data: Data(#"{"name":"a","count":"three","ratio":1,"on":true,"tags":[],"ports":[]}"#.utf8))
        XCTAssertThrowsError(try JSONValueDecoder().decode(Sample.self, from: value)) { error in
            guard case DecodingError.typeMismatch(_, let context) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(context.codingPath.map(\.stringValue), ["count"])
        }
        let overflow = try JSONValue(data: Data(#"{"name":"a","count":1,"ratio":1,"on":true,"tags":[],"ports":[70000]}"#.utf8))
        XCTAssertThrowsError(try JSONValueDecoder().decode(Sample.self, from: overflow))
    }
}
