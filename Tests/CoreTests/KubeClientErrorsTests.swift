import XCTest
@testable import Core

final class KubeClientErrorsTests: XCTestCase {
    private func status(_ code: Int, reason: String) -> Data {
        Data("""
        {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"nodes \\"n1\\" \(reason)","reason":"\(reason)","code":\(code)}
        """.utf8)
    }

    func testStatusBodiesMapToTheirErrors() {
        guard case .notFound(let s) = KubeErrorMapping.error(code: 404, body: status(404, reason: "NotFound")) else {
            return XCTFail("404 is notFound")
        }
        XCTAssertEqual(s.reason, "NotFound")
        XCTAssertEqual(s.code, 404)
        XCTAssertEqual(s.message, "nodes \"n1\" NotFound")
        guard case .conflict(let c) = KubeErrorMapping.error(code: 409, body: status(409, reason: "Conflict")) else {
            return XCTFail("409 is conflict")
        }
        XCTAssertEqual(c.reason, "Conflict")
        guard case .gone = KubeErrorMapping.error(code: 410, body: status(410, reason: "Expired")) else {
            return XCTFail("410 is gone")
        }
        guard case .api(let code, let f) = KubeErrorMapping.error(code: 403, body: status(403, reason: "Forbidden")) else {
            return XCTFail("403 is api")
        }
        XCTAssertEqual(code, 403)
        XCTAssertEqual(f.reason, "Forbidden")
    }

    func testNonStatusBodyBecomesTheMessage() {
        let e = KubeErrorMapping.error(code: 502, body: Data("<html>Bad Gateway</html>\n".utf8))
        guard case .api(502, let s) = e else { return XCTFail("\(e)") }
        XCTAssertEqual(s.message, "<html>Bad Gateway</html>")
        XCTAssertEqual(s.code, 502)
        guard case .api(500, let empty) = KubeErrorMapping.error(code: 500, body: Data()) else { return XCTFail() }
        XCTAssertEqual(empty.message, "HTTP 500")
    }

    func testStatusWithoutCodeTakesTheHTTPCode() {
        let body = Data(#"{"kind":"Status","message":"boom","reason":"InternalError"}"#.utf8)
        guard case .api(500, let s) = KubeErrorMapping.error(code: 500, body: body) else { return XCTFail() }
        XCTAssertEqual(s.code, 500)
        XCTAssertEqual(s.message, "boom")
    }

    func testWatchErrorEvents() {
        let expired = APIStatus(message: "too old resource version: 1 (5)", reason: "Expired", code: 410)
        guard case .gone(let s) = KubeErrorMapping.watchError(expired) else { return XCTFail() }
        XCTAssertEqual(s.message, "too old resource version: 1 (5)")
        guard case .gone = KubeErrorMapping.watchError(APIStatus(message: nil, reason: "Expired", code: nil)) else { return XCTFail() }
        guard case .api(500, _) = KubeErrorMapping.watchError(APIStatus(message: "x", reason: "InternalError", code: 500)) else {
            return XCTFail()
        }
    }

    func testTransportErrorsAndCancellation() {
        let t = KubeErrorMapping.error(from: HTTPTransportError(message: "GET https://h/api: Connection refused"))
        guard case KubeError.transport(let m)? = t as? KubeError else { return XCTFail("\(t)") }
        XCTAssertEqual(m, "GET https://h/api: Connection refused")
        XCTAssertTrue(KubeErrorMapping.error(from: CancellationError()) is CancellationError)
        let streamed = KubeErrorMapping.error(from: HTTPStatusError(status: 410, body: status(410, reason: "Expired")))
        guard case KubeError.gone? = streamed as? KubeError else { return XCTFail("\(streamed)") }
    }
}
