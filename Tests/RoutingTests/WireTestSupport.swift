import XCTest
@testable import Routing

/// Builds a message from a hand-written body: 16 marker octets, the length, the type.
func message(type: UInt8, body: [UInt8]) -> [UInt8] {
    let length = 19 + body.count
    return [UInt8](repeating: 0xFF, count: 16) + [UInt8(length >> 8), UInt8(length & 0xFF), type] + body
}

/// Parses "40 01 01 00"-style hex (spaces and newlines ignored).
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    var out: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        out.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return out
}

func prefix(_ text: String) -> IPPrefix { IPPrefix(text)! }
func ip(_ text: String) -> IPAddress { IPAddress(text)! }

/// Asserts that decoding throws exactly this NOTIFICATION.
func assertNotification(_ bytes: [UInt8], context: WireContext = WireContext(), _ expected: BGPErrorCode,
                        data: [UInt8]? = nil, file: StaticString = #filePath, line: UInt = #line) {
    do {
        let m = try BGPMessage.decode(bytes, context: context)
        XCTFail("decoded \(m), expected \(expected)", file: file, line: line)
    } catch {
        XCTAssertEqual(error.error, expected, file: file, line: line)
        if let data { XCTAssertEqual(error.data, data, file: file, line: line) }
    }
}

/// Decodes an UPDATE body that must not reset the session.
func decodeUpdate(_ body: [UInt8], context: WireContext = WireContext(), file: StaticString = #filePath, line: UInt = #line) -> UpdateMessage? {
    do {
        guard case .update(let u) = try BGPMessage.decode(message(type: 2, body: body), context: context) else {
            XCTFail("not an UPDATE", file: file, line: line)
            return nil
        }
        return u
    } catch {
        XCTFail("unexpected \(error)", file: file, line: line)
        return nil
    }
}

/// An UPDATE body from a withdrawn field, an attribute field and an NLRI field.
func updateBody(withdrawn: [UInt8] = [], attributes: [UInt8], nlri: [UInt8] = []) -> [UInt8] {
    [UInt8(withdrawn.count >> 8), UInt8(withdrawn.count & 0xFF)] + withdrawn
        + [UInt8(attributes.count >> 8), UInt8(attributes.count & 0xFF)] + attributes + nlri
}

/// ORIGIN IGP, AS_PATH [65001] (4-octet), NEXT_HOP 192.0.2.1: the minimum valid attribute set.
let validAttributes = hex("40 01 01 00  40 02 06 02 01 00 00 FD E9  40 03 04 C0 00 02 01")
/// 192.168.1.0/24
let sampleNLRI = hex("18 C0 A8 01")
