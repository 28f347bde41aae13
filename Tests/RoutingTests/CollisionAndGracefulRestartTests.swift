import XCTest
@testable import Routing

final class CollisionAndGracefulRestartTests: XCTestCase {
    func testHigherIdentifierKeepsItsOwnConnection() {
        XCTAssertEqual(CollisionDetection.survivor(localIdentifier: 0x0A00_0002, remoteIdentifier: 0x0A00_0001), .outbound)
        XCTAssertEqual(CollisionDetection.survivor(localIdentifier: 0x0A00_0001, remoteIdentifier: 0x0A00_0002), .inbound)
        // Identifiers compare as unsigned integers: 200.0.0.1 beats 10.0.0.1.
        XCTAssertEqual(CollisionDetection.survivor(localIdentifier: 0xC800_0001, remoteIdentifier: 0x0A00_0001), .outbound)
        // Equal identifiers between ASes: the larger AS keeps its connection (RFC 6286).
        XCTAssertEqual(CollisionDetection.survivor(localIdentifier: 5, remoteIdentifier: 5, localAS: 65002, remoteAS: 65001), .outbound)
        XCTAssertEqual(CollisionDetection.survivor(localIdentifier: 5, remoteIdentifier: 5, localAS: 65001, remoteAS: 65002), .inbound)
    }

    func testResolveAgainstExistingConnection() {
        // We have the higher identifier; our outbound connection is in OpenConfirm and the peer's
        // inbound connection delivers an OPEN: close the new one.
        XCTAssertEqual(CollisionDetection.resolve(existingState: .openConfirm, existingOrigin: .outbound,
                                                  localIdentifier: 2, remoteIdentifier: 1), .closeNew)
        // Same, but the peer has the higher identifier: its connection wins.
        XCTAssertEqual(CollisionDetection.resolve(existingState: .openConfirm, existingOrigin: .outbound,
                                                  localIdentifier: 1, remoteIdentifier: 2), .closeExisting)
        XCTAssertEqual(CollisionDetection.resolve(existingState: .openSent, existingOrigin: .inbound,
                                                  localIdentifier: 2, remoteIdentifier: 1), .closeExisting)
        XCTAssertEqual(CollisionDetection.resolve(existingState: .established, existingOrigin: .inbound,
                                                  localIdentifier: 2, remoteIdentifier: 1), .closeNew)
        for state in [SessionState.idle, .connect, .active] {
            XCTAssertEqual(CollisionDetection.resolve(existingState: state, existingOrigin: .outbound,
                                                      localIdentifier: 1, remoteIdentifier: 2), .noCollision)
        }
    }

    func testCollisionDumpSendsCeaseCollisionResolution() {
        var fsm = SessionFSM(config: SessionConfig(localAS: 1, peerAS: 1, bgpIdentifier: 1))
        _ = fsm.handle(.manualStart)
        _ = fsm.handle(.tcpConnected(.outbound))
        _ = fsm.handle(.messageReceived(.open(OpenMessage(asn: 1, holdTime: 90, bgpIdentifier: 2, capabilities: []))))
        XCTAssertEqual(fsm.state, .openConfirm)
        let actions = fsm.handle(.openCollisionDump)
        XCTAssertEqual(actions.first, .send(.notification(NotificationMessage(.cease(.connectionCollisionResolution)))))
        XCTAssertEqual(fsm.state, .idle)
        XCTAssertEqual(fsm.lastDownReason, .collision)
    }

    func testRestartedGracefulRestartPeerDisplacesEstablishedSession() {
        XCTAssertEqual(CollisionDetection.resolve(existingState: .established, existingOrigin: .inbound,
                                                  localIdentifier: 2, remoteIdentifier: 1, gracefulRestartNegotiated: true),
                       .closeExisting)
        var fsm = SessionFSM(config: SessionConfig(localAS: 1, peerAS: 1, bgpIdentifier: 1))
        _ = fsm.handle(.manualStart)
        _ = fsm.handle(.tcpConnected(.outbound))
        _ = fsm.handle(.messageReceived(.open(OpenMessage(asn: 1, holdTime: 90, bgpIdentifier: 2, capabilities: []))))
        _ = fsm.handle(.messageReceived(.keepalive))
        let actions = fsm.handle(.openCollisionDump)
        XCTAssertEqual(actions.first, .closeConnection, "the old connection is dead: no NOTIFICATION")
        XCTAssertTrue(actions.contains(.down(.collision)))
        var gr = GracefulRestartState()
        XCTAssertEqual(gr.sessionDown(.collision, session: session(peerGR: peerGR)).last,
                       .retainStale([.ipv4Unicast], restartSeconds: 120))
    }

    // MARK: graceful restart

    func session(peerGR: GracefulRestartCapability?, families: [AddressFamily] = [.ipv4Unicast, .ipv6Unicast]) -> NegotiatedSession {
        NegotiatedSession(peerOpen: OpenMessage(myAS: 1, holdTime: 90, bgpIdentifier: 2, capabilities: []),
                          peerAS: 1, peerIdentifier: 2, holdTime: 90, fourOctetAS: true, families: families,
                          routeRefresh: true, extendedMessages: false, peerGracefulRestart: peerGR, externalPeer: false)
    }

    let peerGR = GracefulRestartCapability(restartTime: 120, families: [.init(.ipv4Unicast, forwardingPreserved: true)])

    func testWithoutGracefulRestartRoutesArePurged() {
        var gr = GracefulRestartState()
        XCTAssertEqual(gr.sessionDown(.connectionFailed, session: session(peerGR: nil)), [.purge([.ipv4Unicast, .ipv6Unicast])])
    }

    func testConnectionLossRetainsCoveredFamilies() {
        var gr = GracefulRestartState()
        XCTAssertEqual(gr.sessionDown(.connectionFailed, session: session(peerGR: peerGR)),
                       [.purge([.ipv6Unicast]), .retainStale([.ipv4Unicast], restartSeconds: 120)])
        XCTAssertEqual(gr.staleFamilies, [.ipv4Unicast])
        // Peer back with F bit set: wait for End-of-RIB, then drop what was not refreshed.
        let restarted = GracefulRestartCapability(restarting: true, restartTime: 120, families: [.init(.ipv4Unicast, forwardingPreserved: true)])
        XCTAssertEqual(gr.sessionEstablished(session(peerGR: restarted)), [.stopRestartTimer, .startStalePathTimer(seconds: 360)])
        XCTAssertEqual(gr.awaitingEndOfRIB, [.ipv4Unicast])
        XCTAssertEqual(gr.endOfRIB(.ipv4Unicast), [.purgeStale(.ipv4Unicast), .stopRestartTimer])
        XCTAssertEqual(gr.staleFamilies, [])
        XCTAssertEqual(gr.endOfRIB(.ipv4Unicast), [])
    }

    func testPeerThatLostForwardingStateFlushesImmediately() {
        var gr = GracefulRestartState()
        _ = gr.sessionDown(.connectionFailed, session: session(peerGR: peerGR))
        let lost = GracefulRestartCapability(restarting: true, restartTime: 120, families: [.init(.ipv4Unicast, forwardingPreserved: false)])
        XCTAssertEqual(gr.sessionEstablished(session(peerGR: lost)), [.stopRestartTimer, .purgeStale(.ipv4Unicast)])
    }

    func testRestartTimerExpiryPurgesStale() {
        var gr = GracefulRestartState()
        _ = gr.sessionDown(.connectionFailed, session: session(peerGR: peerGR))
        XCTAssertEqual(gr.timerExpired(), [.purgeStale(.ipv4Unicast)])
        XCTAssertEqual(gr.staleFamilies, [])
    }

    func testNotificationsEndGracefulRestartUnlessNBit() {
        var gr = GracefulRestartState()
        let n = NotificationMessage(.holdTimerExpired)
        XCTAssertEqual(gr.sessionDown(.holdTimerExpired, session: session(peerGR: peerGR)).first, .purge([.ipv4Unicast, .ipv6Unicast]))
        XCTAssertEqual(gr.sessionDown(.notificationReceived(n), session: session(peerGR: peerGR)).first, .purge([.ipv4Unicast, .ipv6Unicast]))
        var withN = peerGR
        withN.notification = true
        XCTAssertEqual(gr.sessionDown(.holdTimerExpired, session: session(peerGR: withN)).last, .retainStale([.ipv4Unicast], restartSeconds: 120))
        XCTAssertTrue(SessionDownReason.notificationReceived(n).allowsGracefulRestart(notificationBit: true))
        XCTAssertFalse(SessionDownReason.notificationReceived(NotificationMessage(.cease(.hardReset))).allowsGracefulRestart(notificationBit: true))
        XCTAssertFalse(SessionDownReason.manualStop(n).allowsGracefulRestart(notificationBit: true))
    }
}
