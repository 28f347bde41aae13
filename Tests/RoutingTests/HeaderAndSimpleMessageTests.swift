import XCTest
@testable import Routing

final class HeaderAndSimpleMessageTests: XCTestCase {
    let keepalive = hex("FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 0013 04")

    func testKeepaliveIsByteExact() throws {
        XCTAssertEqual(BGPMessage.keepalive.encode(), keepalive)
        XCTAssertEqual(try BGPMessage.decode(keepalive), .keepalive)
    }

    func testBadMarkerIsConnectionNotSynchronized() {
        var bytes = keepalive
        bytes[3] = 0xFE
        assertNotification(bytes, .messageHeader(.connectionNotSynchronized), data: [])
    }

    func testLengthBelowHeaderIsBadMessageLength() {
        var bytes = keepalive
        bytes[17] = 0x12
        assertNotification(bytes, .messageHeader(.badMessageLength), data: [0x00, 0x12])
    }

    func testLengthAbove4096IsBadMessageLengthUnlessExtended() {
        let body = updateBody(attributes: [], nlri: [UInt8](repeating: 0, count: 4097 - 23))
        let bytes = message(type: 2, body: body)
        XCTAssertEqual(bytes.count, 4097)
        assertNotification(bytes, .messageHeader(.badMessageLength), data: [0x10, 0x01])
        // With RFC 8654 extended messages the same size is fine (4,074 default routes).
        XCTAssertNoThrow(try BGPMessage.decode(bytes, context: WireContext(extendedMessages: true)))
    }

    func testOpenLongerThan4096IsRejectedEvenWhenExtended() {
        let bytes = message(type: 1, body: [UInt8](repeating: 0, count: 5000))
        assertNotification(bytes, context: WireContext(extendedMessages: true), .messageHeader(.badMessageLength), data: [0x13, 0x9B])
    }

    func testKeepaliveWithBodyIsBadMessageLength() {
        assertNotification(message(type: 4, body: [0]), .messageHeader(.badMessageLength), data: [0x00, 0x14])
    }

    func testShortOpenAndUpdateAreBadMessageLength() {
        assertNotification(message(type: 1, body: [4, 0, 1]), .messageHeader(.badMessageLength), data: [0x00, 0x16])
        assertNotification(message(type: 2, body: [0, 0]), .messageHeader(.badMessageLength), data: [0x00, 0x15])
        assertNotification(message(type: 3, body: [6]), .messageHeader(.badMessageLength), data: [0x00, 0x14])
    }

    func testUnknownTypeIsBadMessageType() {
        assertNotification(message(type: 9, body: []), .messageHeader(.badMessageType), data: [9])
    }

    func testNotificationIsByteExact() throws {
        let n = NotificationMessage(.updateMessage(.missingWellKnownAttribute), data: [3])
        let bytes = hex("FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 0016 03  03 03 03")
        XCTAssertEqual(BGPMessage.notification(n).encode(), bytes)
        XCTAssertEqual(try BGPMessage.decode(bytes), .notification(n))
    }

    func testUnknownNotificationCodesAreKept() throws {
        let bytes = message(type: 3, body: [42, 7, 1, 2])
        XCTAssertEqual(try BGPMessage.decode(bytes), .notification(NotificationMessage(.other(code: 42, subcode: 7), data: [1, 2])))
        XCTAssertEqual(BGPErrorCode(code: 6, subcode: 99), .other(code: 6, subcode: 99))
    }

    func testEveryTypedSubcodeRoundTrips() {
        var all: [BGPErrorCode] = [.holdTimerExpired]
        all += MessageHeaderSubcode.allCases.map { .messageHeader($0) }
        all += OpenMessageSubcode.allCases.map { .openMessage($0) }
        all += UpdateMessageSubcode.allCases.map { .updateMessage($0) }
        all += FSMErrorSubcode.allCases.map { .finiteStateMachine($0) }
        all += CeaseSubcode.allCases.map { .cease($0) }
        all += RouteRefreshSubcode.allCases.map { .routeRefresh($0) }
        for code in all {
            XCTAssertEqual(BGPErrorCode(code: code.code, subcode: code.subcode), code)
            let bytes = BGPMessage.notification(NotificationMessage(code)).encode()
            XCTAssertEqual(Array(bytes[19...]), [code.code, code.subcode])
        }
    }

    func testShutdownCommunicationRFC8203() throws {
        let n = NotificationMessage.cease(.administrativeShutdown, communication: "bye")
        let bytes = hex("FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 0019 03  06 02 03 62 79 65")
        XCTAssertEqual(BGPMessage.notification(n).encode(), bytes)
        guard case .notification(let decoded) = try BGPMessage.decode(bytes) else { return XCTFail() }
        XCTAssertEqual(decoded.shutdownCommunication, "bye")
        XCTAssertEqual(NotificationMessage.cease(.administrativeReset, communication: "maintenance ✓").shutdownCommunication,
                       "maintenance ✓")
    }

    func testShutdownCommunicationIsCutAt255OctetsOnACharacterBoundary() {
        let n = NotificationMessage.cease(.administrativeShutdown, communication: String(repeating: "é", count: 200))
        XCTAssertEqual(n.data[0], 254) // 127 two-octet characters; the 128th would make 256
        XCTAssertEqual(n.data.count, 255)
        XCTAssertEqual(n.shutdownCommunication, String(repeating: "é", count: 127))
    }

    func testMalformedShutdownCommunicationIsNotReported() {
        XCTAssertNil(NotificationMessage(.cease(.administrativeShutdown), data: [5, 0x41]).shutdownCommunication)
        XCTAssertNil(NotificationMessage(.cease(.administrativeShutdown), data: [2, 0xC3, 0x28]).shutdownCommunication)
        XCTAssertNil(NotificationMessage(.cease(.peerDeconfigured), data: [1, 0x41]).shutdownCommunication)
    }

    func testRouteRefreshIsByteExact() throws {
        let bytes = hex("FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 0017 05  0002 00 01")
        let rr = BGPMessage.routeRefresh(RouteRefreshMessage(family: .ipv6Unicast))
        XCTAssertEqual(rr.encode(), bytes)
        XCTAssertEqual(try BGPMessage.decode(bytes), rr)
    }

    func testRouteRefreshWithWrongLengthIsInvalidMessageLength() {
        let bytes = message(type: 5, body: [0, 1, 0, 1, 0])
        assertNotification(bytes, .routeRefresh(.invalidMessageLength), data: bytes)
    }

    func testDecodeRejectsTrailingOrMissingOctets() {
        assertNotification(keepalive + [0], .messageHeader(.badMessageLength), data: [0x00, 0x13])
        assertNotification(Array(keepalive.prefix(10)), .messageHeader(.badMessageLength))
    }
}
