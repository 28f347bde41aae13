import XCTest
@testable import Routing

final class OpenMessageTests: XCTestCase {
    /// AS 65001, hold 90, id 10.0.0.1; MP IPv4 unicast, route refresh, 4-octet AS 65001.
    let basicOpen = hex("""
        FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 002D 01
        04 FDE9 005A 0A000001 10
        02 0E  01 04 0001 00 01  02 00  41 04 0000FDE9
        """)

    func testOpenIsByteExact() throws {
        let open = OpenMessage(asn: 65001, holdTime: 90, bgpIdentifier: 0x0A00_0001,
                               capabilities: [.multiprotocol(.ipv4Unicast), .routeRefresh])
        XCTAssertEqual(BGPMessage.open(open).encode(), basicOpen)
        XCTAssertEqual(try BGPMessage.decode(basicOpen), .open(open))
        XCTAssertEqual(open.asNumber, 65001)
        XCTAssertTrue(open.supportsRouteRefresh)
    }

    func testFourOctetASUsesASTrans() throws {
        let open = OpenMessage(asn: 4_200_000_001, holdTime: 0, bgpIdentifier: 0xC000_0201, capabilities: [])
        let bytes = hex("""
            FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 0025 01
            04 5BA0 0000 C0000201 08  02 06  41 04 FA56EA01
            """)
        XCTAssertEqual(BGPMessage.open(open).encode(), bytes)
        guard case .open(let decoded) = try BGPMessage.decode(bytes) else { return XCTFail() }
        XCTAssertEqual(decoded.myAS, 23456)
        XCTAssertEqual(decoded.asNumber, 4_200_000_001)
        XCTAssertEqual(decoded.families, [.ipv4Unicast], "no MP capability means IPv4 unicast only")
    }

    func testAllCapabilitiesRoundTripByteExact() throws {
        let gr = GracefulRestartCapability(restarting: true, notification: false, restartTime: 120, families: [
            .init(.ipv4Unicast, forwardingPreserved: true), .init(.ipv6Unicast, forwardingPreserved: false)])
        let open = OpenMessage(myAS: 64512, holdTime: 180, bgpIdentifier: 1, capabilities: [
            .multiprotocol(.ipv6Unicast), .extendedMessage, .gracefulRestart(gr),
            .unknown(code: 73, value: [0x01, 0x02]), .fourOctetAS(64512)])
        let caps = hex("01 04 0002 00 01  06 00  40 0A 8078 0001 01 80 0002 01 00  49 02 01 02  41 04 0000FC00")
        let body = hex("04 FC00 00B4 00000001") + [UInt8(caps.count + 2), 2, UInt8(caps.count)] + caps
        let bytes = message(type: 1, body: body)
        XCTAssertEqual(BGPMessage.open(open).encode(), bytes)
        guard case .open(let decoded) = try BGPMessage.decode(bytes) else { return XCTFail() }
        XCTAssertEqual(decoded, open)
        XCTAssertEqual(decoded.gracefulRestart, gr)
        XCTAssertTrue(decoded.supportsExtendedMessage)
        XCTAssertEqual(decoded.families, [.ipv6Unicast])
    }

    func testCapabilitiesSplitAcrossSeveralParametersAreAllRead() throws {
        let params = hex("02 02 02 00  02 06 01 04 0002 00 01")
        let bytes = message(type: 1, body: hex("04 FDE9 005A 0A000001") + [UInt8(params.count)] + params)
        guard case .open(let decoded) = try BGPMessage.decode(bytes) else { return XCTFail() }
        XCTAssertEqual(decoded.capabilities, [.routeRefresh, .multiprotocol(.ipv6Unicast)])
    }

    func testExtendedOptionalParametersRFC9072AreDecoded() throws {
        let caps = Array(repeating: hex("49 02 AA BB"), count: 70).flatMap { $0 }
        let open = OpenMessage(myAS: 1, holdTime: 90, bgpIdentifier: 7, capabilities: (0..<70).map { _ in .unknown(code: 0x49, value: [0xAA, 0xBB]) })
        let encoded = BGPMessage.open(open).encode()
        // 255, 255, extended length 283, then parameter type 2 with a 2-octet length of 280.
        XCTAssertEqual(Array(encoded[28..<34]), [255, 255, 0x01, 0x1B, 2, 0x01])
        XCTAssertEqual(Array(encoded[34...35]), [0x18, 0x49])
        XCTAssertEqual(encoded.count, 19 + 10 + 3 + 3 + caps.count)
        XCTAssertEqual(try BGPMessage.decode(encoded), .open(open))
    }

    func testUnsupportedVersion() {
        var bytes = basicOpen
        bytes[19] = 3
        assertNotification(bytes, .openMessage(.unsupportedVersionNumber), data: [0x00, 0x04])
    }

    func testZeroIdentifierIsBadBGPIdentifier() {
        var bytes = basicOpen
        bytes.replaceSubrange(24..<28, with: [0, 0, 0, 0])
        assertNotification(bytes, .openMessage(.badBGPIdentifier), data: [])
    }

    func testHoldTimeOneOrTwoIsUnacceptable() {
        for hold: UInt8 in [1, 2] {
            var bytes = basicOpen
            bytes[22] = 0; bytes[23] = hold
            assertNotification(bytes, .openMessage(.unacceptableHoldTime), data: [])
        }
    }

    func testUnknownOptionalParameterIsUnsupported() {
        // Parameter type 1 (the deprecated authentication parameter) with 2 octets of value.
        let bytes = message(type: 1, body: hex("04 FDE9 005A 0A000001 04  01 02 AB CD"))
        assertNotification(bytes, .openMessage(.unsupportedOptionalParameter), data: hex("01 02 AB CD"))
    }

    func testOverrunningParameterLengthIsAnOpenError() {
        let bytes = message(type: 1, body: hex("04 FDE9 005A 0A000001 04  02 09 02 00"))
        assertNotification(bytes, .openMessage(.unspecific))
        let overrunCap = message(type: 1, body: hex("04 FDE9 005A 0A000001 04  02 02 41 04"))
        assertNotification(overrunCap, .openMessage(.unspecific))
    }

    func testKnownCapabilityWithWrongLengthIsAnOpenError() {
        let bytes = message(type: 1, body: hex("04 FDE9 005A 0A000001 05  02 03 41 01 00"))
        assertNotification(bytes, .openMessage(.unspecific), data: hex("41 01 00"))
    }
}
