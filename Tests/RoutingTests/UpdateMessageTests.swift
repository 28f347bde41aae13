import XCTest
@testable import Routing

final class UpdateMessageTests: XCTestCase {
    func testIPv4UpdateIsByteExact() throws {
        let update = UpdateMessage(
            withdrawn: [prefix("10.1.0.0/16")],
            attributes: PathAttributes(origin: .igp, asPath: .sequence([65001, 65002]), nextHop: ip("192.0.2.1"),
                                       multiExitDisc: 100, localPref: 200, communities: [0xFDE9_0001]),
            nlri: [prefix("192.168.1.0/24"), prefix("10.0.0.0/8")])
        let bytes = hex("""
            FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 004D 02
            0003 10 0A01
            002D
              40 01 01 00
              40 02 0A 02 02 0000FDE9 0000FDEA
              40 03 04 C0000201
              80 04 04 00000064
              40 05 04 000000C8
              C0 08 04 FDE90001
            18 C0A801  08 0A
            """)
        XCTAssertEqual(BGPMessage.update(update).encode(), bytes)
        XCTAssertEqual(try BGPMessage.decode(bytes), .update(update))
    }

    func testIPv6MPReachWithLinkLocalNextHopIsByteExact() throws {
        let update = UpdateMessage(attributes: PathAttributes(
            origin: .incomplete, asPath: ASPath(),
            mpReach: MPReach(family: .ipv6Unicast, nextHop: ip("2001:db8::1"), linkLocalNextHop: ip("fe80::1"),
                             nlri: [prefix("2001:db8:1::/48")]),
            mpUnreach: MPUnreach(family: .ipv6Unicast, withdrawn: [prefix("2001:db8:2::/48")])))
        let body = hex("""
            0000  0043
              80 0E 2C 0002 01 20 20010DB8000000000000000000000001 FE800000000000000000000000000001 00 30 20010DB80001
              80 0F 0A 0002 01 30 20010DB80002
              40 01 01 02
              40 02 00
            """)
        XCTAssertEqual(BGPMessage.update(update).encode(), message(type: 2, body: body))
        let decoded = decodeUpdate(body)
        XCTAssertEqual(decoded, update)
        XCTAssertEqual(decoded?.announcements, [prefix("2001:db8:1::/48")])
        XCTAssertEqual(decoded?.withdrawals, [prefix("2001:db8:2::/48")])
    }

    func testIPv6NextHopWithoutLinkLocal() {
        let body = updateBody(attributes: hex("80 0E 16 0002 01 10 20010DB8000000000000000000000001 00 00") + hex("40 01 01 00 40 02 00"))
        let decoded = decodeUpdate(body)
        XCTAssertEqual(decoded?.attributes.mpReach?.nextHop, ip("2001:db8::1"))
        XCTAssertNil(decoded?.attributes.mpReach?.linkLocalNextHop)
        XCTAssertEqual(decoded?.attributes.mpReach?.nlri, [prefix("::/0")])
    }

    func testEndOfRIBMarkers() throws {
        let v4 = hex("FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 0017 02 0000 0000")
        XCTAssertEqual(BGPMessage.update(.endOfRIB(.ipv4Unicast)).encode(), v4)
        guard case .update(let u4) = try BGPMessage.decode(v4) else { return XCTFail() }
        XCTAssertEqual(u4.endOfRIB, .ipv4Unicast)

        let v6 = hex("FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 001D 02 0000 0006 80 0F 03 0002 01")
        XCTAssertEqual(BGPMessage.update(.endOfRIB(.ipv6Unicast)).encode(), v6)
        guard case .update(let u6) = try BGPMessage.decode(v6) else { return XCTFail() }
        XCTAssertEqual(u6.endOfRIB, .ipv6Unicast)

        XCTAssertNil(UpdateMessage(withdrawn: [prefix("10.0.0.0/8")]).endOfRIB)
    }

    func testAllOtherAttributesRoundTripByteExact() throws {
        let attrs = PathAttributes(
            origin: .egp, asPath: ASPath([.init(.sequence, [65001]), .init(.set, [65010, 65011])]),
            nextHop: ip("10.0.0.1"), atomicAggregate: true, aggregator: Aggregator(asn: 65001, address: 0x0A00_0001),
            originatorID: 0x0A00_0009, clusterList: [0x0A00_0064, 0x0A00_0065],
            unknown: [RawAttribute(flags: 0xE0, type: 99, value: [1, 2, 3])])
        let expected = hex("""
            40 01 01 01
            40 02 10 02 01 0000FDE9 01 02 0000FDF2 0000FDF3
            40 03 04 0A000001
            40 06 00
            C0 07 08 0000FDE9 0A000001
            80 09 04 0A000009
            80 0A 08 0A000064 0A000065
            E0 63 03 010203
            """)
        var w = WireWriter()
        attrs.encode(into: &w, fourOctetAS: true)
        XCTAssertEqual(w.bytes, expected)
        XCTAssertEqual(decodeUpdate(updateBody(attributes: expected, nlri: sampleNLRI))?.attributes, attrs)
    }

    func testUnknownOptionalTransitiveGetsPartialBitAndNonTransitiveIsDropped() {
        let attrs = validAttributes + hex("C0 63 02 AABB  80 64 01 CC")
        let u = decodeUpdate(updateBody(attributes: attrs, nlri: sampleNLRI))
        XCTAssertEqual(u?.attributes.unknown, [RawAttribute(flags: 0xE0, type: 99, value: [0xAA, 0xBB])])
        XCTAssertEqual(u?.problems, [])
    }

    func testExtendedLengthAttributeIsDecodedAndUsedWhenNeeded() throws {
        let communities = (0..<100).map { UInt32($0) }
        let u = UpdateMessage(attributes: PathAttributes(origin: .igp, asPath: .sequence([1]), nextHop: ip("10.0.0.1"),
                                                         communities: communities), nlri: [prefix("10.2.0.0/16")])
        let bytes = BGPMessage.update(u).encode()
        // COMMUNITIES is 400 octets: flags C0|10, type 8, length 0x0190.
        let index = bytes.indices.first { bytes[$0] == 0xD0 && bytes[$0 + 1] == 0x08 }
        XCTAssertNotNil(index)
        if let index { XCTAssertEqual(Array(bytes[index + 2...index + 3]), [0x01, 0x90]) }
        XCTAssertEqual(try BGPMessage.decode(bytes), .update(u))
    }

    func testTwoOctetPeerGetsASTransAndAS4Path() throws {
        let attrs = PathAttributes(origin: .igp, asPath: .sequence([65001, 4_200_000_001]), nextHop: ip("10.0.0.1"),
                                   aggregator: Aggregator(asn: 4_200_000_001, address: 0x0A00_0001))
        var w = WireWriter()
        attrs.encode(into: &w, fourOctetAS: false)
        let expected = hex("""
            40 01 01 00
            40 02 06 02 02 FDE9 5BA0
            40 03 04 0A000001
            C0 07 06 5BA0 0A000001
            C0 11 0A 02 02 0000FDE9 FA56EA01
            C0 12 08 FA56EA01 0A000001
            """)
        XCTAssertEqual(w.bytes, expected)
        // Decoding as the 2-octet session rebuilds the 4-octet values.
        let decoded = decodeUpdate(updateBody(attributes: expected, nlri: sampleNLRI), context: WireContext(fourOctetAS: false))
        XCTAssertEqual(decoded?.attributes, attrs)
    }

    func testAS4PathMergeKeepsLeadingASesAddedByOldSpeakers() {
        // An old speaker (65005) prepended itself after the path left a new speaker.
        let asPath = ASPath.sequence([65005, 65001, 23456])
        let as4 = ASPath.sequence([65001, 4_200_000_001])
        XCTAssertEqual(ASPath.merge(asPath: asPath, as4Path: as4), ASPath([.init(.sequence, [65005]), .init(.sequence, [65001, 4_200_000_001])]))
        XCTAssertEqual(ASPath.merge(asPath: .sequence([1]), as4Path: .sequence([2, 3])), .sequence([1]), "longer AS4_PATH is ignored")
    }

    func testAS4AttributesIgnoredWhenAggregatorIsNotASTrans() {
        let attrs = hex("40 01 01 00  40 02 04 02 01 5BA0  40 03 04 0A000001  C0 07 06 FDE9 0A000001  C0 11 06 02 01 FA56EA01")
        let u = decodeUpdate(updateBody(attributes: attrs, nlri: sampleNLRI), context: WireContext(fourOctetAS: false))
        XCTAssertEqual(u?.attributes.asPath, .sequence([23456]))
        XCTAssertEqual(u?.attributes.aggregator?.asn, 65001)
    }

    func testAS4PathFromFourOctetPeerIsDiscarded() {
        let attrs = validAttributes + hex("C0 11 06 02 01 FA56EA01")
        let u = decodeUpdate(updateBody(attributes: attrs, nlri: sampleNLRI))
        XCTAssertEqual(u?.attributes.asPath, .sequence([65001]))
        XCTAssertEqual(u?.problems, [])
    }

    func testLongASPathIsSplitInto255ASSegments() {
        let path = ASPath.sequence((1...300).map(UInt32.init))
        var w = WireWriter()
        path.encode(into: &w, fourOctet: true)
        XCTAssertEqual(w.bytes.count, 2 + 255 * 4 + 2 + 45 * 4)
        XCTAssertEqual(ASPath.decode(w.bytes, fourOctet: true)?.length, 300)
        XCTAssertEqual(path.prepending(7).firstAS, 7)
        XCTAssertEqual(ASPath([.init(.set, [1, 2])]).prepending(7).segments.count, 2)
    }

    func testAS4PathOmitsConfederationSegments() {
        let attrs = PathAttributes(asPath: ASPath([.init(.confedSequence, [65100]), .init(.sequence, [4_200_000_001])]))
        var w = WireWriter()
        attrs.encode(into: &w, fourOctetAS: false)
        XCTAssertEqual(w.bytes, hex("40 02 08 03 01 FE4C 02 01 5BA0  C0 11 06 02 01 FA56EA01"))
    }
}
