@testable import Core
import XCTest

/// The link monitor's rtnetlink decoding, on hand-built messages.
final class KernelLinkMessageTests: XCTestCase {
    /// One rtattr: length (with header), type, value, padded to 4.
    private func attr(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        let len = UInt16(4 + value.count)
        var out = le16(len) + le16(type) + value
        while out.count % 4 != 0 { out.append(0) }
        return out
    }

    private func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }

    private func message(_ type: UInt16, index: Int32, flags: UInt32, attrs: [[UInt8]]) -> [UInt8] {
        let ifinfo: [UInt8] = [0, 0] + le16(1) + le32(UInt32(bitPattern: index)) + le32(flags) + le32(0)
        let body = ifinfo + attrs.flatMap { $0 }
        return le32(UInt32(16 + body.count)) + le16(type) + le16(0) + le32(0) + le32(0) + body
    }

    func testNewAndDeleteInOneDatagram() {
        let name = attr(3, Array("cali0123".utf8) + [0])
        let mac = attr(1, [0xee, 0xee, 0xee, 0xee, 0xee, 0xee])
        let mtu = attr(4, le32(1440))
        let info = attr(18, attr(1, Array("veth".utf8) + [0]))
        let datagram = message(16, index: 9, flags: 1, attrs: [name, mac, mtu, info])
            + message(17, index: 9, flags: 0, attrs: [name])
            + message(20, index: 9, flags: 0, attrs: [])  // RTM_NEWADDR: ignored
        let parsed = LinkMessageParser.parse(datagram)
        XCTAssertEqual(parsed.count, 2)
        XCTAssertEqual(parsed[0].0, .newOrChanged)
        XCTAssertEqual(parsed[0].1, Link(index: 9, name: "cali0123", mac: .calicoHostVeth, mtu: 1440, isUp: true, kind: "veth"))
        XCTAssertEqual(parsed[1].0, .removed)
        XCTAssertEqual(parsed[1].1.name, "cali0123")
        XCTAssertFalse(parsed[1].1.isUp)
    }

    func testTruncatedAndMalformedInputIsSkippedNotCrashed() {
        let good = message(16, index: 3, flags: 0, attrs: [attr(3, Array("eth0".utf8) + [0])])
        for cut in 0..<good.count { _ = LinkMessageParser.parse(Array(good.prefix(cut))) }
        XCTAssertEqual(LinkMessageParser.parse(good).count, 1)
        // An attribute claiming more bytes than there are, a zero-length header, no name at all.
        var lying = good
        lying[32] = 0xFF
        XCTAssertEqual(LinkMessageParser.parse(lying).count, 0)
        XCTAssertEqual(LinkMessageParser.parse([UInt8](repeating: 0, count: 64)).count, 0)
        XCTAssertEqual(LinkMessageParser.parse(message(16, index: 3, flags: 0, attrs: [])).count, 0)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var noisy = good
            noisy[Int.random(in: 0..<noisy.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            _ = LinkMessageParser.parse(noisy)
        }
    }
}
