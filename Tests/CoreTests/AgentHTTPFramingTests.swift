@testable import Core
import XCTest

/// The plugin's side of HTTP/1.1 over the agent socket: what it writes and how it reads.
final class AgentHTTPFramingTests: XCTestCase {
    func testTargetOfAURL() {
        XCTAssertEqual(AgentHTTPFraming.target(ofURL: "http://calico-node-agent/api/v1/nodes/a?x=1"), "/api/v1/nodes/a?x=1")
        XCTAssertEqual(AgentHTTPFraming.target(ofURL: "https://10.0.0.1:6443"), "/")
        XCTAssertEqual(AgentHTTPFraming.target(ofURL: "/api/v1"), "/api/v1")
    }

    func testRequestBytes() {
        let body = Data(#"{"a":1}"#.utf8)
        let bytes = AgentHTTPFraming.encodeRequest(method: "PATCH", target: "/api/v1/namespaces/d/pods/p",
                                                   headers: [("Content-Type", "application/merge-patch+json"), ("Evil", "a\r\nX: y")],
                                                   body: body)
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self),
                       "PATCH /api/v1/namespaces/d/pods/p HTTP/1.1\r\nHost: calico-node\r\nConnection: close\r\n"
                       + "Content-Type: application/merge-patch+json\r\nContent-Length: 7\r\n\r\n{\"a\":1}")
        let get = AgentHTTPFraming.encodeRequest(method: "GET", target: "/x", headers: [], body: nil)
        XCTAssertTrue(String(decoding: get, as: UTF8.self).hasSuffix("Content-Length: 0\r\n\r\n"))
    }

    func testResponseIsReturnedOnlyWhenWhole() throws {
        let whole = Data("HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello".utf8)
        for cut in [0, 10, 40, whole.count - 1] {
            XCTAssertNil(try AgentHTTPFraming.parseResponse(whole.prefix(cut), atEOF: false), "cut at \(cut)")
        }
        let r = try XCTUnwrap(try AgentHTTPFraming.parseResponse(whole, atEOF: false))
        XCTAssertEqual(r.status, 409)
        XCTAssertEqual(r.headers["content-type"], "application/json")
        XCTAssertEqual(r.body, Data("hello".utf8))
        // Bytes past the declared length are not part of the body.
        XCTAssertEqual(try AgentHTTPFraming.parseResponse(whole + Data("xx".utf8), atEOF: false)?.body, Data("hello".utf8))
        // A slice that does not start at index 0 reads the same.
        let sliced = (Data("junk".utf8) + whole).dropFirst(4)
        XCTAssertEqual(try AgentHTTPFraming.parseResponse(sliced, atEOF: false)?.body, Data("hello".utf8))
    }

    func testBodyToEndOfConnectionWithoutALength() throws {
        let bytes = Data("HTTP/1.1 200 OK\r\nX-A: b\r\n\r\n{}".utf8)
        XCTAssertNil(try AgentHTTPFraming.parseResponse(bytes, atEOF: false))
        XCTAssertEqual(try AgentHTTPFraming.parseResponse(bytes, atEOF: true)?.body, Data("{}".utf8))
    }

    func testMalformedAnswersThrow() {
        let bad: [(String, Bool)] = [
            ("", true),  // closed without an answer
            ("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", true),  // truncated body
            ("SSH-2.0-OpenSSH\r\n\r\n", false),
            ("HTTP/1.1 abc OK\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", false),
            (String(repeating: "x", count: AgentHTTPFraming.maxHeadBytes + 1), false),
        ]
        for (text, eof) in bad {
            XCTAssertThrowsError(try AgentHTTPFraming.parseResponse(Data(text.utf8), atEOF: eof), text.prefix(40).debugDescription)
        }
    }
}
