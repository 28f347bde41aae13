@testable import Core
import XCTest

/// The agent's answer to one plugin request: allowed requests reach the API unchanged and its
/// answer comes back unchanged; the rest is refused before anything is sent.
final class AgentAPIRoutingTests: XCTestCase {
    private final class Recorder: @unchecked Sendable {
        let lock = NSLock()
        var calls: [(method: String, target: String, body: Data?, type: String?)] = []
    }

    private func answer(_ method: String, _ target: String, body: Data? = nil, type: String? = nil,
                        reply: @escaping @Sendable () throws -> (Int, Data)) async -> (AgentAPIRouting.Answer, Recorder) {
        let rec = Recorder()
        let a = await AgentAPIRouting.answer(method: method, target: target, body: body, contentType: type) { m, t, b, c in
            rec.lock.withLock { rec.calls.append((m, t, b, c)) }
            return try reply()
        }
        return (a, rec)
    }

    func testAPIAnswersPassThroughUnchanged() async {
        let conflict = Data(#"{"kind":"Status","code":409,"reason":"Conflict","message":"the object has been modified"}"#.utf8)
        let target = "/apis/crd.projectcalico.org/v1/ipamblocks/10-0-0-0-26"
        let body = Data(#"{"spec":{}}"#.utf8)
        let (a, rec) = await answer("PUT", target, body: body, type: "application/json; charset=utf-8") { (409, conflict) }
        XCTAssertEqual(a, AgentAPIRouting.Answer(status: 409, body: conflict, agentError: nil))
        XCTAssertEqual(rec.calls.count, 1)
        XCTAssertEqual(rec.calls.first?.method, "PUT")
        XCTAssertEqual(rec.calls.first?.target, target)
        XCTAssertEqual(rec.calls.first?.body, body)
        XCTAssertEqual(rec.calls.first?.type, "application/json")
        let (nf, _) = await answer("GET", "/api/v1/nodes/gone") { (404, Data("{}".utf8)) }
        XCTAssertEqual(nf.status, 404)
        let (list, listRec) = await answer("GET", "/apis/crd.projectcalico.org/v1/ippools?limit=1") { (200, Data("[]".utf8)) }
        XCTAssertEqual(list.status, 200)
        XCTAssertEqual(listRec.calls.first?.target, "/apis/crd.projectcalico.org/v1/ippools?limit=1", "the query is forwarded as sent")
    }

    func testTransportFailureIsTheAgentsOwn502() async throws {
        let (a, _) = await answer("GET", "/api/v1/nodes/n") { throw KubeError.transport("GET https://10.96.0.1/api/v1/nodes/n: Connection refused") }
        XCTAssertEqual(a.status, 502)
        XCTAssertEqual(a.agentError, "transport")
        let status = try JSONDecoder().decode(APIStatus.self, from: a.body)
        XCTAssertEqual(status.code, 502)
        XCTAssertTrue(status.message?.contains("Connection refused") == true, "\(status)")
    }

    func testRefusalsSendNothing() async throws {
        let cases: [(String, String, Data?, String?, Int)] = [
            ("GET", "/api/v1/secrets", nil, nil, 403),
            ("GET", "/api/v1/nodes/../secrets", nil, nil, 400),
            ("PATCH", "/api/v1/namespaces/d/pods/p", Data("x".utf8), "text/plain", 415),
            ("PATCH", "/api/v1/namespaces/d/pods/p", Data("x".utf8), nil, 415),
            ("PATCH", "/api/v1/namespaces/d/pods/p", Data(count: AgentAPIRouting.maxRequestBody + 1), "application/json", 413),
        ]
        for (m, t, b, type, code) in cases {
            let (a, rec) = await answer(m, t, body: b, type: type) { XCTFail("forwarded \(m) \(t)"); return (200, Data()) }
            XCTAssertEqual(a.status, code, "\(m) \(t)")
            XCTAssertEqual(rec.calls.count, 0)
            let status = try JSONDecoder().decode(APIStatus.self, from: a.body)
            XCTAssertEqual(status.code, code)
            XCTAssertFalse((status.message ?? "").isEmpty)
        }
    }
}
