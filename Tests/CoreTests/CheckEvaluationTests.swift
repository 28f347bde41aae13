import XCTest
@testable import Core

final class CheckEvaluationTests: XCTestCase {
    private let body = Array(#"{"bgp":{"detail":"1 of 2 peers Established","live":true,"ready":false},"felix":{"detail":"in sync","live":true,"ready":true}}"#.utf8)

    func testJudgesEachComponentByItsOwnEntry() {
        let felix = CheckEvaluation.evaluate(CheckRequest(component: "felix", aspect: .ready), status: 503, body: body)
        XCTAssertTrue(felix.passed, "\(felix)")
        let bgp = CheckEvaluation.evaluate(CheckRequest(component: "bgp", aspect: .ready), status: 503, body: body)
        XCTAssertEqual(bgp.failure, "bgp readiness failed: bgp is not ready: 1 of 2 peers Established")
        XCTAssertTrue(CheckEvaluation.evaluate(CheckRequest(component: "bgp", aspect: .live), status: 503, body: body).passed)
    }

    func testMissingComponentBadStatusAndGarbage() {
        let typha = CheckEvaluation.evaluate(CheckRequest(component: "typha", aspect: .ready), status: 200, body: body)
        XCTAssertEqual(typha.failure, "typha readiness failed: typha is not running in this calico-node (components: bgp, felix)")
        let notFound = CheckEvaluation.evaluate(CheckRequest(component: "felix", aspect: .live), status: 404, body: [])
        XCTAssertEqual(notFound.failure, "felix liveness failed: the health endpoint answered /liveness with HTTP 404")
        let garbage = CheckEvaluation.evaluate(CheckRequest(component: "felix", aspect: .live), status: 200, body: Array("<html>".utf8))
        XCTAssertTrue(garbage.failure?.contains("not the component table") ?? false)
    }

    func testHTTPAnswerParsing() throws {
        let plain = Array("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}trailing".utf8)
        let a = try CheckHTTPGet.parse(plain, target: "t")
        XCTAssertEqual(a.status, 503)
        XCTAssertEqual(a.body, Array("{}".utf8))
        let chunked = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4;x=y\r\n\":1}\r\n0\r\n\r\n".utf8)
        let b = try CheckHTTPGet.parse(chunked, target: "t")
        XCTAssertEqual(String(decoding: b.body, as: UTF8.self), "{\"a\":1}")
        XCTAssertThrowsError(try CheckHTTPGet.parse(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8), target: "t"))
    }
}
