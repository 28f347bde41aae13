import Core
import XCTest
@testable import DevCluster

final class ProtobufBodyTests: XCTestCase {
    /// A length-delimited protobuf field.
    private func field(_ number: Int, _ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(number << 3 | 2)]
        var n = payload.count
        repeat {
            var b = UInt8(n & 0x7F)
            n >>= 7
            if n > 0 { b |= 0x80 }
            out.append(b)
        } while n > 0
        return out + payload
    }

    private func field(_ number: Int, _ text: String) -> [UInt8] { field(number, Array(text.utf8)) }

    private func envelope(_ kind: String, _ raw: [UInt8]) -> [UInt8] {
        ProtobufBody.magic + field(1, field(1, "v1") + field(2, kind)) + field(2, raw) + field(4, "application/vnd.kubernetes.protobuf")
    }

    func testNamespaceWithLabels() throws {
        let meta = field(1, "team") + field(11, field(1, "env") + field(2, "dev"))
        let v = try ProtobufBody.decode(envelope("Namespace", field(1, meta) + field(2, [])), kind: .namespace)
        XCTAssertEqual(v.metaName, "team")
        XCTAssertEqual(v.metaLabels, ["env": .string("dev")])
        XCTAssertEqual(v["kind"]?.stringValue, "Namespace")
    }

    func testSecretDataIsBase64() throws {
        let raw = field(1, field(1, "creds") + field(3, "ns")) + field(2, field(1, "user") + field(2, "admin")) + field(3, "Opaque")
        let v = try ProtobufBody.decode(envelope("Secret", raw), kind: .secret)
        XCTAssertEqual(v.metaNamespace, "ns")
        XCTAssertEqual(v["data"]?["user"]?.stringValue, "YWRtaW4=")
        XCTAssertEqual(v["type"]?.stringValue, "Opaque")
    }

    func testRejectsUnknownKindsAndGarbage() {
        XCTAssertThrowsError(try ProtobufBody.decode(envelope("Pod", field(1, field(1, "p"))), kind: .pod))
        XCTAssertThrowsError(try ProtobufBody.decode(Array("{\"a\":1}".utf8), kind: .namespace))
        XCTAssertThrowsError(try ProtobufBody.decode(ProtobufBody.magic + [0x12, 0xFF, 0xFF], kind: .namespace))
    }
}
