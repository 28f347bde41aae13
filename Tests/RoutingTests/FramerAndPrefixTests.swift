import XCTest
@testable import Routing

final class FramerAndPrefixTests: XCTestCase {
    func testFramerSplitsAStreamFedOneOctetAtATime() throws {
        let messages: [BGPMessage] = [
            .keepalive,
            .update(UpdateMessage(attributes: PathAttributes(origin: .igp, asPath: .sequence([1]), nextHop: ip("10.0.0.1")),
                                  nlri: [prefix("10.1.0.0/16")])),
            .notification(.cease(.administrativeShutdown, communication: "bye")),
        ]
        let stream = messages.flatMap { $0.encode() }
        var framer = MessageFramer()
        var out: [BGPMessage] = []
        for octet in stream {
            framer.append([octet])
            while let m = try framer.nextMessage() { out.append(m) }
        }
        XCTAssertEqual(out, messages)
        XCTAssertEqual(framer.bufferedCount, 0)
    }

    func testFramerHandlesManyMessagesInOneRead() throws {
        var framer = MessageFramer()
        framer.append(Array(repeating: BGPMessage.keepalive.encode(), count: 1000).flatMap { $0 })
        var count = 0
        while try framer.next() != nil { count += 1 }
        XCTAssertEqual(count, 1000)
    }

    func testFramerRejectsAHostileLengthBeforeBuffering() {
        var framer = MessageFramer()
        framer.append([UInt8](repeating: 0xFF, count: 16) + [0xFF, 0xFF, 2])
        XCTAssertThrowsError(try framer.next()) { error in
            XCTAssertEqual((error as? NotificationMessage)?.error, .messageHeader(.badMessageLength))
        }
        var extended = MessageFramer(context: WireContext(extendedMessages: true))
        extended.append([UInt8](repeating: 0xFF, count: 16) + [0xFF, 0xFF, 2])
        XCTAssertNil(try extended.next(), "65,535 is legal with extended messages: wait for the body")
    }

    func testFramerReportsBadMarker() {
        var framer = MessageFramer()
        framer.append([UInt8](repeating: 0, count: 19))
        XCTAssertThrowsError(try framer.next())
    }

    func testPrefixesAreCanonicallyMasked() {
        XCTAssertEqual(prefix("10.1.2.3/8"), prefix("10.0.0.0/8"))
        XCTAssertEqual(prefix("10.1.2.3/8").description, "10.0.0.0/8")
        XCTAssertEqual(prefix("2001:db8:ffff::1/33").description, "2001:db8:8000::/33")
        XCTAssertEqual(prefix("2001:db8::1/128").description, "2001:db8::1/128")
        XCTAssertEqual(prefix("::/0").description, "::/0")
        XCTAssertEqual(prefix("1.2.3.4").length, 32)
        XCTAssertNil(IPPrefix("10.0.0.0/33"))
        XCTAssertNil(IPPrefix("2001:db8::/129"))
        XCTAssertNil(IPPrefix("banana/8"))
        XCTAssertTrue(prefix("10.0.0.0/8").contains(ip("10.200.0.1")))
        XCTAssertFalse(prefix("10.0.0.0/8").contains(ip("11.0.0.1")))
        XCTAssertTrue(ip("fe80::1").isIPv6LinkLocal)
        XCTAssertFalse(ip("2001:db8::1").isIPv6LinkLocal)
    }

    func testPrefixWireEncodingUsesMinimalOctetsAndIgnoresTrailingBits() {
        var w = WireWriter()
        prefix("10.128.0.0/9").encode(into: &w)
        prefix("0.0.0.0/0").encode(into: &w)
        prefix("2001:db8::/32").encode(into: &w)
        XCTAssertEqual(w.bytes, hex("09 0A80  00  20 20010DB8"))
        // Host bits set on the wire are masked off on decode.
        var r = WireReader(hex("09 0AFF"))
        XCTAssertEqual(IPPrefix.decode(&r, afi: .ipv4), prefix("10.128.0.0/9"))
    }
}
