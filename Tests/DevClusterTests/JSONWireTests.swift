import Core
import XCTest
@testable import DevCluster

final class JSONWireTests: XCTestCase {
    func testRoundTrip() throws {
        let text = #"{"a":[1,-2.5,true,false,null,"x\"y\\z\n\u00e9\ud83d\ude00"],"b":{"c":12345678901234},"d":2.5e-1}"#
        let v = try JSONWire.parse(Array(text.utf8))
        XCTAssertEqual(v["a"]?.arrayValue?[0], .int(1))
        XCTAssertEqual(v["a"]?.arrayValue?[1], .double(-2.5))
        XCTAssertEqual(v["a"]?.arrayValue?[5], .string("x\"y\\z\né😀"))
        XCTAssertEqual(v["b"]?["c"], .int(12345678901234))
        XCTAssertEqual(v["d"], .double(0.25))
        // Integral doubles are written as integers, as Go writes float64.
        XCTAssertEqual(String(decoding: JSONWire.encode(.double(1000)), as: UTF8.self), "1000")
        XCTAssertEqual(try JSONWire.parse(JSONWire.encode(v)), v)
        // Foundation agrees with what we write.
        XCTAssertEqual(try JSONValue(data: Data(JSONWire.encode(v))), v)
    }

    func testRejectsBadJSON() {
        for bad in ["", "{", "{\"a\"}", "[1,]", "tru", "\"abc", "{\"a\":1} x", "-"] {
            XCTAssertThrowsError(try JSONWire.parse(Array(bad.utf8)), bad)
        }
    }
}
