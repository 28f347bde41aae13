import XCTest
@testable import Routing

final class TwoSpeakerTests: XCTestCase {
    let a = SessionConfig(localAS: 65001, peerAS: 65002, bgpIdentifier: 0x0A00_0001, holdTime: 90,
                          families: [.ipv4Unicast, .ipv6Unicast])
    let b = SessionConfig(localAS: 65002, peerAS: 65001, bgpIdentifier: 0x0A00_0002, holdTime: 30,
                          families: [.ipv4Unicast], passive: true)

    func establishedPair() -> TwoSpeakerHarness {
        var h = TwoSpeakerHarness(a, b)
        h.handle(1, .manualStart)
        h.handle(0, .manualStart)
        return h
    }

    func testSessionEstablishesAndNegotiates() {
        let h = establishedPair()
        XCTAssertEqual(h.sides.map(\.fsm.state), [.established, .established])
        XCTAssertEqual(h.sides[0].fsm.negotiated?.holdTime, 30)
        XCTAssertEqual(h.sides[0].fsm.negotiated?.families, [.ipv4Unicast])
        XCTAssertEqual(h.sides[1].fsm.negotiated?.externalPeer, true)
        XCTAssertEqual(h.sides[0].timers[.keepalive], 10)
    }

    func testUpdatesFlowAndKeepalivesHoldTheSession() {
        var h = establishedPair()
        let attrs = PathAttributes(origin: .igp, asPath: .sequence([65001]), nextHop: ip("10.0.0.1"))
        let prefixes = (0..<2000).map { IPPrefix(address: .v4(0x0A00_0000 | UInt32($0) << 8), length: 24)! }
        for u in UpdatePacking.announce(prefixes, family: .ipv4Unicast, attributes: attrs, context: h.sides[0].fsm.wireContext) {
            h.perform(send: u, from: 0)
        }
        XCTAssertEqual(h.sides[1].delivered.flatMap(\.announcements), prefixes)
        h.advance(3600)
        XCTAssertEqual(h.sides.map(\.fsm.state), [.established, .established], "keepalives every 10 s keep a 30 s hold")
    }

    func testSilentLinkFailureExpiresHoldTimersOnBothSides() {
        var h = establishedPair()
        h.linkUp = false
        h.advance(29)
        XCTAssertEqual(h.sides.map(\.fsm.state), [.established, .established])
        h.advance(2)
        XCTAssertEqual(h.sides.map(\.fsm.state), [.idle, .idle])
        XCTAssertTrue(h.sides[0].events.contains(.down(.holdTimerExpired)))
        XCTAssertTrue(h.sides[1].events.contains(.down(.holdTimerExpired)))
    }

    func testHoldTimeZeroNeedsNoKeepalives() {
        var cfgA = a, cfgB = b
        cfgA.holdTime = 0
        cfgB.holdTime = 0
        var h = TwoSpeakerHarness(cfgA, cfgB)
        h.handle(1, .manualStart)
        h.handle(0, .manualStart)
        XCTAssertEqual(h.sides.map(\.fsm.state), [.established, .established])
        h.linkUp = false
        h.advance(100_000)
        XCTAssertEqual(h.sides.map(\.fsm.state), [.established, .established])
        XCTAssertEqual(h.sides[0].events.filter { $0 == .send(.keepalive) }.count, 1, "only the one that confirms the OPEN")
    }

    func testGarbageFromPeerGetsNotificationAndRestartsAfterIdleHold() {
        var h = establishedPair()
        h.inject(into: 1, [UInt8](repeating: 0, count: 19))
        XCTAssertEqual(h.sides[1].fsm.state, .idle)
        XCTAssertTrue(h.sides[1].events.contains(.send(.notification(NotificationMessage(.messageHeader(.connectionNotSynchronized))))))
        XCTAssertEqual(h.sides[0].fsm.lastDownReason, .notificationReceived(NotificationMessage(.messageHeader(.connectionNotSynchronized))))
        h.advance(30)
        XCTAssertEqual(h.sides.map(\.fsm.state), [.established, .established], "both restart after the idle hold time")
    }

    func testMismatchedPeerASNeverEstablishes() {
        var wrong = b
        wrong.peerAS = 65009
        var h = TwoSpeakerHarness(a, wrong)
        h.handle(1, .manualStart)
        h.handle(0, .manualStart)
        XCTAssertTrue(h.sides[1].events.contains(.send(.notification(NotificationMessage(.openMessage(.badPeerAS))))))
        XCTAssertNotEqual(h.sides[0].fsm.state, .established)
        XCTAssertNotEqual(h.sides[1].fsm.state, .established)
    }
}

extension TwoSpeakerHarness {
    /// Sends an UPDATE from side `i` as its speaker's RIB would (outside the state machine).
    mutating func perform(send update: UpdateMessage, from i: Int) {
        let bytes = BGPMessage.update(update).encode(context: sides[i].fsm.wireContext)
        inject(into: 1 - i, bytes)
    }
}
