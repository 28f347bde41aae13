import XCTest
@testable import Routing

final class UpdatePackingTests: XCTestCase {
    func v4Prefixes(_ n: Int) -> [IPPrefix] {
        (0..<n).map { IPPrefix(address: .v4(0x0A00_0000 | UInt32($0) << 8), length: 24)! }
    }

    func assertRoundTrip(_ updates: [UpdateMessage], context: WireContext, limit: Int,
                         file: StaticString = #filePath, line: UInt = #line) throws -> (announced: [IPPrefix], withdrawn: [IPPrefix]) {
        var announced: [IPPrefix] = [], withdrawn: [IPPrefix] = []
        for u in updates {
            let bytes = BGPMessage.update(u).encode(context: context)
            XCTAssertLessThanOrEqual(bytes.count, limit, file: file, line: line)
            guard case .update(let d) = try BGPMessage.decode(bytes, context: context) else { XCTFail(); continue }
            XCTAssertEqual(d.problems, [], file: file, line: line)
            announced += d.announcements
            withdrawn += d.withdrawals
        }
        return (announced, withdrawn)
    }

    func testIPv4AnnouncementsFillStandardMessages() throws {
        let prefixes = v4Prefixes(10_000)
        let attrs = PathAttributes(origin: .igp, asPath: .sequence([65001]), nextHop: ip("10.0.0.1"), localPref: 100)
        let ctx = WireContext()
        let updates = UpdatePacking.announce(prefixes, family: .ipv4Unicast, attributes: attrs, context: ctx)
        XCTAssertEqual(updates.count, 10) // (4096 - 23 - 25) / 4 = 1,012 per message
        let result = try assertRoundTrip(updates, context: ctx, limit: 4096)
        XCTAssertEqual(result.announced, prefixes)
    }

    func testExtendedMessagesHoldMore() throws {
        let prefixes = v4Prefixes(10_000)
        let attrs = PathAttributes(origin: .igp, asPath: .sequence([65001]), nextHop: ip("10.0.0.1"))
        let ctx = WireContext(extendedMessages: true)
        let updates = UpdatePacking.announce(prefixes, family: .ipv4Unicast, attributes: attrs, context: ctx)
        XCTAssertEqual(updates.count, 1)
        XCTAssertEqual(try assertRoundTrip(updates, context: ctx, limit: 65535).announced, prefixes)
    }

    func testIPv6AnnouncementsAndWithdrawalsUseMPAttributes() throws {
        let prefixes = (0..<3000).map { IPPrefix(address: .v6(0x2001_0DB8_0000_0000 | UInt64($0) << 16, 0), length: 64)! }
        let attrs = PathAttributes(origin: .igp, asPath: .sequence([65001]),
                                   mpReach: MPReach(family: .ipv6Unicast, nextHop: ip("2001:db8::1"), linkLocalNextHop: ip("fe80::1"), nlri: []))
        let ctx = WireContext()
        let ann = UpdatePacking.announce(prefixes, family: .ipv6Unicast, attributes: attrs, context: ctx)
        XCTAssertEqual(try assertRoundTrip(ann, context: ctx, limit: 4096).announced, prefixes)
        let wd = UpdatePacking.withdraw(prefixes, family: .ipv6Unicast, context: ctx)
        XCTAssertEqual(try assertRoundTrip(wd, context: ctx, limit: 4096).withdrawn, prefixes)
    }

    func testIPv4Withdrawals() throws {
        let prefixes = v4Prefixes(5000)
        let wd = UpdatePacking.withdraw(prefixes, family: .ipv4Unicast, context: WireContext())
        XCTAssertEqual(try assertRoundTrip(wd, context: WireContext(), limit: 4096).withdrawn, prefixes)
    }

    func testConfederationSegmentsFromEBGPAreTreatAsWithdraw() {
        let attrs = hex("40 01 01 00  40 02 0C 03 01 0000FDEA 02 01 0000FDE9  40 03 04 C0000201")
        let u = decodeUpdate(updateBody(attributes: attrs, nlri: sampleNLRI), context: WireContext(externalPeer: true))
        XCTAssertEqual(u?.problems.first?.notification.error, .updateMessage(.malformedASPath))
        XCTAssertTrue(u?.treatAsWithdraw ?? false)
        XCTAssertEqual(decodeUpdate(updateBody(attributes: attrs, nlri: sampleNLRI))?.problems, [], "fine over iBGP")
    }

    func testRouteReflectionAttributesAndLoops() {
        let learned = PathAttributes(origin: .igp, asPath: ASPath(), nextHop: ip("10.0.0.2"), localPref: 100)
        let once = learned.reflected(originator: 0x0A00_0002, clusterID: 0x0A00_00FE)
        XCTAssertEqual(once.originatorID, 0x0A00_0002)
        XCTAssertEqual(once.clusterList, [0x0A00_00FE])
        let twice = once.reflected(originator: 0x0A00_0003, clusterID: 0x0A00_00FD)
        XCTAssertEqual(twice.originatorID, 0x0A00_0002, "the first reflector's ORIGINATOR_ID is kept")
        XCTAssertEqual(twice.clusterList, [0x0A00_00FD, 0x0A00_00FE])
        XCTAssertTrue(twice.isReflectionLoop(routerID: 0x0A00_0002, clusterID: nil))
        XCTAssertTrue(twice.isReflectionLoop(routerID: 9, clusterID: 0x0A00_00FE))
        XCTAssertFalse(twice.isReflectionLoop(routerID: 9, clusterID: 0x0A00_00FC))
    }
}
