import XCTest
@testable import Routing

/// Every UPDATE malformation: the RFC 4271 6.3 NOTIFICATION, and what RFC 7606 does with it.
final class UpdateErrorTests: XCTestCase {
    let strict = WireContext(revisedErrorHandling: false)

    /// Asserts RFC 7606 handling (action + the RFC 4271 notification) and that strict mode
    /// resets the session with that same NOTIFICATION.
    func assertProblem(_ attributes: [UInt8], nlri: [UInt8] = sampleNLRI, context: WireContext = WireContext(),
                       _ action: ErrorAction, _ error: BGPErrorCode, data: [UInt8],
                       file: StaticString = #filePath, line: UInt = #line) {
        let body = updateBody(attributes: attributes, nlri: nlri)
        let u = decodeUpdate(body, context: context, file: file, line: line)
        XCTAssertEqual(u?.problems.first, AttributeProblem(action: action, notification: NotificationMessage(error, data: data)),
                       file: file, line: line)
        var strictContext = context
        strictContext.revisedErrorHandling = false
        assertNotification(message(type: 2, body: body), context: strictContext, error, data: data, file: file, line: line)
    }

    func testWithdrawnLengthOverrunIsMalformedAttributeList() {
        assertNotification(message(type: 2, body: hex("0010 0000")), .updateMessage(.malformedAttributeList), data: [])
    }

    func testAttributeLengthOverrunIsMalformedAttributeList() {
        assertNotification(message(type: 2, body: hex("0000 0010 40 01 01 00")), .updateMessage(.malformedAttributeList), data: [])
    }

    func testDuplicateMPReachResetsTheSession() {
        let mp = hex("80 0E 0A 0001 01 04 0A000001 00 00")
        let body = updateBody(attributes: mp + mp + hex("40 01 01 00 40 02 00"))
        assertNotification(message(type: 2, body: body), .updateMessage(.malformedAttributeList), data: [])
    }

    func testDuplicateOrdinaryAttributeIsDiscarded() {
        let u = decodeUpdate(updateBody(attributes: validAttributes + hex("40 01 01 02"), nlri: sampleNLRI))
        XCTAssertEqual(u?.attributes.origin, .igp)
        XCTAssertEqual(u?.problems.map(\.action), [.attributeDiscard])
        XCTAssertFalse(u?.treatAsWithdraw ?? true)
    }

    func testUnrecognizedWellKnownAttributeResetsTheSession() {
        let bad = hex("40 63 01 00")
        let body = updateBody(attributes: validAttributes + bad, nlri: sampleNLRI)
        assertNotification(message(type: 2, body: body), .updateMessage(.unrecognizedWellKnownAttribute), data: bad)
    }

    func testMissingWellKnownAttributeIsTreatAsWithdraw() {
        let noOrigin = Array(validAttributes.dropFirst(4))
        assertProblem(noOrigin, .treatAsWithdraw, .updateMessage(.missingWellKnownAttribute), data: [1])
        let noNextHop = Array(validAttributes.prefix(13))
        assertProblem(noNextHop, .treatAsWithdraw, .updateMessage(.missingWellKnownAttribute), data: [3])
        let u = decodeUpdate(updateBody(withdrawn: hex("08 0B"), attributes: noOrigin, nlri: sampleNLRI))
        XCTAssertEqual(u?.withdrawals, [prefix("11.0.0.0/8"), prefix("192.168.1.0/24")])
        XCTAssertEqual(u?.announcements, [])
    }

    func testAttributesAreNotRequiredWithoutReachableRoutes() {
        let u = decodeUpdate(updateBody(withdrawn: hex("08 0B"), attributes: []))
        XCTAssertEqual(u?.problems, [])
        XCTAssertEqual(u?.withdrawals, [prefix("11.0.0.0/8")])
    }

    func testAttributeFlagsErrorIsTreatAsWithdraw() {
        let badOrigin = hex("C0 01 01 00")
        assertProblem(badOrigin + Array(validAttributes.dropFirst(4)), .treatAsWithdraw, .updateMessage(.attributeFlagsError), data: badOrigin)
    }

    func testAttributeLengthErrorIsTreatAsWithdraw() {
        let badNextHop = hex("40 03 05 0A00000100")
        assertProblem(Array(validAttributes.prefix(13)) + badNextHop, .treatAsWithdraw, .updateMessage(.attributeLengthError), data: badNextHop)
        let badMED = hex("80 04 02 0001")
        assertProblem(validAttributes + badMED, .treatAsWithdraw, .updateMessage(.attributeLengthError), data: badMED)
        let badCommunities = hex("C0 08 03 000001")
        assertProblem(validAttributes + badCommunities, .treatAsWithdraw, .updateMessage(.attributeLengthError), data: badCommunities)
        let badLocalPref = hex("40 05 03 000001")
        assertProblem(validAttributes + badLocalPref, .treatAsWithdraw, .updateMessage(.attributeLengthError), data: badLocalPref)
        let badCluster = hex("80 0A 00")
        assertProblem(validAttributes + badCluster, .treatAsWithdraw, .updateMessage(.attributeLengthError), data: badCluster)
        let badOriginator = hex("80 09 02 0001")
        assertProblem(validAttributes + badOriginator, .treatAsWithdraw, .updateMessage(.attributeLengthError), data: badOriginator)
    }

    func testInvalidOriginIsTreatAsWithdraw() {
        let bad = hex("40 01 01 03")
        assertProblem(bad + Array(validAttributes.dropFirst(4)), .treatAsWithdraw, .updateMessage(.invalidOriginAttribute), data: bad)
    }

    func testInvalidNextHopIsTreatAsWithdraw() {
        for addr in ["E0000001", "00000000", "FFFFFFFF", "F0000001"] {
            let bad = hex("40 03 04 " + addr)
            assertProblem(Array(validAttributes.prefix(13)) + bad, .treatAsWithdraw, .updateMessage(.invalidNextHopAttribute), data: bad)
        }
    }

    func testMalformedMPReachIsOptionalAttributeErrorAndResets() {
        let bad = hex("80 0E 0A 0002 01 05 0102030405 00")
        let body = updateBody(attributes: bad + hex("40 01 01 00 40 02 00"))
        assertNotification(message(type: 2, body: body), .updateMessage(.optionalAttributeError), data: bad)
        let badNLRI = hex("80 0E 0B 0001 01 04 0A000001 00 21 0A")
        assertNotification(message(type: 2, body: updateBody(attributes: badNLRI)), .updateMessage(.optionalAttributeError), data: badNLRI)
        let badUnreach = hex("80 0F 05 0002 01 81 00")
        assertNotification(message(type: 2, body: updateBody(attributes: badUnreach)), .updateMessage(.optionalAttributeError), data: badUnreach)
    }

    func testInvalidNetworkFieldResets() {
        assertNotification(message(type: 2, body: updateBody(attributes: validAttributes, nlri: hex("21 0A000000 00"))),
                           .updateMessage(.invalidNetworkField), data: [])
        assertNotification(message(type: 2, body: updateBody(attributes: validAttributes, nlri: hex("18 0A00"))),
                           .updateMessage(.invalidNetworkField), data: [])
        assertNotification(message(type: 2, body: updateBody(withdrawn: hex("40 0A"), attributes: [])),
                           .updateMessage(.invalidNetworkField), data: [])
    }

    func testMalformedASPathIsTreatAsWithdraw() {
        let attrs = { (path: String) in hex("40 01 01 00") + hex("40 02 " + path) + hex("40 03 04 C0000201") }
        // Unknown segment type, zero-length segment, overrun, trailing octet (RFC 7606 7.2).
        for path in ["06 05 01 0000FDE9", "02 02 00", "06 02 02 0000FDE9", "07 02 01 0000FDE9 00"] {
            assertProblem(attrs(path), .treatAsWithdraw, .updateMessage(.malformedASPath), data: [])
        }
    }

    func testEBGPFirstASMustBeThePeer() {
        let ctx = WireContext(externalPeer: true, peerAS: 65002)
        assertProblem(validAttributes, context: ctx, .treatAsWithdraw, .updateMessage(.malformedASPath), data: [])
        XCTAssertEqual(decodeUpdate(updateBody(attributes: validAttributes, nlri: sampleNLRI),
                                    context: WireContext(externalPeer: true, peerAS: 65001))?.problems, [])
    }

    func testAggregatorAndAtomicAggregateErrorsAreAttributeDiscard() {
        let badAggregator = hex("C0 07 06 FDE9 0A000001")  // 6 octets on a 4-octet session
        assertProblem(validAttributes + badAggregator, .attributeDiscard, .updateMessage(.attributeLengthError), data: badAggregator)
        let badAtomic = hex("40 06 01 00")
        assertProblem(validAttributes + badAtomic, .attributeDiscard, .updateMessage(.attributeLengthError), data: badAtomic)
        let flagsAggregator = hex("40 07 08 0000FDE9 0A000001")
        assertProblem(validAttributes + flagsAggregator, .attributeDiscard, .updateMessage(.attributeFlagsError), data: flagsAggregator)
        let u = decodeUpdate(updateBody(attributes: validAttributes + badAggregator, nlri: sampleNLRI))
        XCTAssertNil(u?.attributes.aggregator)
        XCTAssertEqual(u?.announcements, [prefix("192.168.1.0/24")])
    }

    func testMalformedAS4PathIsAttributeDiscard() {
        let badAS4 = hex("C0 11 03 02 01 00")
        let attrs = hex("40 01 01 00  40 02 04 02 01 FDE9  40 03 04 C0000201") + badAS4
        assertProblem(attrs, context: WireContext(fourOctetAS: false), .attributeDiscard, .updateMessage(.malformedASPath), data: [])
    }

    func testIBGPOnlyAttributesFromEBGPAreDiscardedSilently() {
        let attrs = validAttributes + hex("40 05 04 00000064  80 09 04 0A000009  80 0A 04 0A000001")
        let u = decodeUpdate(updateBody(attributes: attrs, nlri: sampleNLRI), context: WireContext(externalPeer: true))
        XCTAssertNil(u?.attributes.localPref)
        XCTAssertNil(u?.attributes.originatorID)
        XCTAssertNil(u?.attributes.clusterList)
        XCTAssertEqual(u?.problems, [])
    }

    func testTruncatedAttributeAfterRoutesIsTreatAsWithdraw() {
        // RFC 7606 4: a last attribute running past the field, and a dangling partial header.
        for tail in [hex("80 04 08 0000"), hex("80 04")] {
            let u = decodeUpdate(updateBody(attributes: validAttributes + tail, nlri: sampleNLRI))
            XCTAssertEqual(u?.problems.first?.action, .treatAsWithdraw)
            XCTAssertEqual(u?.problems.first?.notification.error, .updateMessage(.malformedAttributeList))
            XCTAssertEqual(u?.withdrawals, [prefix("192.168.1.0/24")])
        }
    }

    func testTruncatedAttributesWithNothingToWithdrawReset() {
        assertNotification(message(type: 2, body: updateBody(attributes: hex("80 0E 30 0002"))),
                           .updateMessage(.malformedAttributeList), data: [])
    }

    func testFlagsErrorOnMPReachStillWithdrawsItsRoutes() {
        let mp = hex("C0 0E 0B 0001 01 04 0A000001 00 08 0B")
        let u = decodeUpdate(updateBody(attributes: mp + hex("40 01 01 00 40 02 00")))
        XCTAssertEqual(u?.problems.first?.action, .treatAsWithdraw)
        XCTAssertEqual(u?.problems.first?.notification, NotificationMessage(.updateMessage(.attributeFlagsError), data: mp))
        XCTAssertEqual(u?.withdrawals, [prefix("11.0.0.0/8")])
    }
}
