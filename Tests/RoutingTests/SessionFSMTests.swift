import XCTest
@testable import Routing

final class SessionFSMTests: XCTestCase {
    let config = SessionConfig(localAS: 65001, peerAS: 65001, bgpIdentifier: 0x0A00_0001, holdTime: 90)

    func peerOpen(hold: UInt16 = 90, asn: UInt32 = 65001, id: UInt32 = 0x0A00_0002, caps: [Capability] = [.multiprotocol(.ipv4Unicast)]) -> BGPMessage {
        .open(OpenMessage(asn: asn, holdTime: hold, bgpIdentifier: id, capabilities: caps))
    }

    /// Drives a machine to OpenSent over an outbound connection.
    func openSent(_ config: SessionConfig? = nil) -> SessionFSM {
        var fsm = SessionFSM(config: config ?? self.config)
        _ = fsm.handle(.manualStart)
        _ = fsm.handle(.tcpConnected(.outbound))
        return fsm
    }

    func established(_ config: SessionConfig? = nil, peerHold: UInt16 = 90) -> SessionFSM {
        var fsm = openSent(config)
        _ = fsm.handle(.messageReceived(peerOpen(hold: peerHold)))
        _ = fsm.handle(.messageReceived(.keepalive))
        return fsm
    }

    func testHappyPathToEstablished() {
        var fsm = SessionFSM(config: config)
        XCTAssertEqual(fsm.handle(.manualStart), [.stopTimer(.idleHold), .startTimer(.connectRetry, seconds: 120), .connect])
        XCTAssertEqual(fsm.state, .connect)

        XCTAssertEqual(fsm.handle(.tcpConnected(.outbound)),
                       [.stopTimer(.connectRetry), .send(.open(config.openMessage)), .startTimer(.hold, seconds: 240)])
        XCTAssertEqual(fsm.state, .openSent)

        XCTAssertEqual(fsm.handle(.messageReceived(peerOpen(hold: 30))),
                       [.stopTimer(.connectRetry), .send(.keepalive), .startTimer(.hold, seconds: 30), .startTimer(.keepalive, seconds: 10)])
        XCTAssertEqual(fsm.state, .openConfirm)
        XCTAssertEqual(fsm.negotiated?.holdTime, 30, "the smaller hold time wins")

        let actions = fsm.handle(.messageReceived(.keepalive))
        XCTAssertEqual(fsm.state, .established)
        XCTAssertEqual(actions.first, .startTimer(.hold, seconds: 30))
        guard case .established(let session)? = actions.last else { return XCTFail("no established action") }
        XCTAssertEqual(session.keepaliveTime, 10)
        XCTAssertEqual(session.families, [.ipv4Unicast])
        XCTAssertFalse(session.externalPeer)
        XCTAssertTrue(session.fourOctetAS)
    }

    func testOpenAdvertisesConfiguredCapabilities() {
        let gr = GracefulRestartCapability(restartTime: 120, families: [.init(.ipv4Unicast, forwardingPreserved: true)])
        let cfg = SessionConfig(localAS: 4_200_000_001, peerAS: 65001, bgpIdentifier: 1, families: [.ipv4Unicast, .ipv6Unicast],
                                extendedMessages: true, gracefulRestart: gr)
        let open = cfg.openMessage
        XCTAssertEqual(open.myAS, 23456)
        XCTAssertEqual(open.capabilities, [.multiprotocol(.ipv4Unicast), .multiprotocol(.ipv6Unicast), .routeRefresh,
                                           .extendedMessage, .gracefulRestart(gr), .fourOctetAS(4_200_000_001)])
    }

    func testPassiveStartWaitsInActive() {
        var fsm = SessionFSM(config: config)
        XCTAssertEqual(fsm.handle(.manualStartPassive), [.stopTimer(.idleHold), .startTimer(.connectRetry, seconds: 120)])
        XCTAssertEqual(fsm.state, .active)
        _ = fsm.handle(.tcpConnected(.inbound))
        XCTAssertEqual(fsm.state, .openSent)
        XCTAssertEqual(fsm.connectionOrigin, .inbound)
    }

    func testConnectRetryTimerRetries() {
        var fsm = SessionFSM(config: config)
        _ = fsm.handle(.manualStart)
        XCTAssertEqual(fsm.handle(.timerExpired(.connectRetry)), [.closeConnection, .startTimer(.connectRetry, seconds: 120), .connect])
        XCTAssertEqual(fsm.state, .connect)
    }

    func testConnectionFailureGoesIdleAndRestartsAfterIdleHold() {
        var fsm = SessionFSM(config: config)
        _ = fsm.handle(.manualStart)
        let actions = fsm.handle(.tcpConnectionFails)
        XCTAssertEqual(fsm.state, .idle)
        XCTAssertEqual(actions.last, .startTimer(.idleHold, seconds: 5))
        XCTAssertEqual(fsm.connectRetryCounter, 1)
        XCTAssertEqual(fsm.lastDownReason, .connectionFailed)
        XCTAssertEqual(fsm.handle(.timerExpired(.idleHold)).last, .connect)
        XCTAssertEqual(fsm.state, .connect)
    }

    func testWithoutIdleHoldAFailedConnectWaitsInActive() {
        var cfg = config
        cfg.idleHoldSeconds = nil
        var fsm = SessionFSM(config: cfg)
        _ = fsm.handle(.manualStart)
        XCTAssertEqual(fsm.handle(.tcpConnectionFails), [.closeConnection, .startTimer(.connectRetry, seconds: 120)])
        XCTAssertEqual(fsm.state, .active)
    }

    func testHoldTimerExpiryInEstablished() {
        var fsm = established()
        let actions = fsm.handle(.timerExpired(.hold))
        XCTAssertEqual(fsm.state, .idle)
        XCTAssertEqual(actions, [.send(.notification(NotificationMessage(.holdTimerExpired))), .closeConnection,
                                 .stopTimer(.connectRetry), .stopTimer(.hold), .stopTimer(.keepalive),
                                 .down(.holdTimerExpired), .startTimer(.idleHold, seconds: 5)])
    }

    func testHoldTimerExpiryWhileWaitingForOpen() {
        var fsm = openSent()
        let actions = fsm.handle(.timerExpired(.hold))
        XCTAssertEqual(actions.first, .send(.notification(NotificationMessage(.holdTimerExpired))))
        XCTAssertFalse(actions.contains(.down(.holdTimerExpired)), "only an Established session reports down")
        XCTAssertEqual(fsm.state, .idle)
    }

    func testHoldTimeZeroMeansNoTimers() {
        var fsm = openSent()
        let actions = fsm.handle(.messageReceived(peerOpen(hold: 0)))
        XCTAssertEqual(actions, [.stopTimer(.connectRetry), .send(.keepalive), .stopTimer(.hold), .stopTimer(.keepalive)])
        XCTAssertEqual(fsm.negotiated?.holdTime, 0)
        let up = fsm.handle(.messageReceived(.keepalive))
        XCTAssertFalse(up.contains { if case .startTimer = $0 { return true } else { return false } })
        XCTAssertEqual(fsm.handle(.messageReceived(.keepalive)), [])
        XCTAssertEqual(fsm.handle(.timerExpired(.keepalive)), [], "no keepalives with hold time 0")
    }

    func testZeroHoldTimeRejectedWhenPolicySaysSo() {
        var cfg = config
        cfg.acceptZeroHoldTime = false
        var fsm = openSent(cfg)
        let actions = fsm.handle(.messageReceived(peerOpen(hold: 0)))
        XCTAssertEqual(actions.first, .send(.notification(NotificationMessage(.openMessage(.unacceptableHoldTime)))))
    }

    func testHoldBelowMinimumIsUnacceptable() {
        var cfg = config
        cfg.minimumHoldTime = 10
        var fsm = openSent(cfg)
        XCTAssertEqual(fsm.handle(.messageReceived(peerOpen(hold: 5))).first,
                       .send(.notification(NotificationMessage(.openMessage(.unacceptableHoldTime)))))
        XCTAssertEqual(fsm.state, .idle)
    }

    func testKeepaliveTimerSendsKeepalive() {
        var fsm = established()
        XCTAssertEqual(fsm.handle(.timerExpired(.keepalive)), [.send(.keepalive), .startTimer(.keepalive, seconds: 30)])
        XCTAssertEqual(fsm.handle(.messageReceived(.keepalive)), [.startTimer(.hold, seconds: 90)])
    }

    func testUpdateIsDeliveredAndRestartsHold() {
        var fsm = established()
        let update = UpdateMessage(withdrawn: [prefix("10.0.0.0/8")])
        XCTAssertEqual(fsm.handle(.messageReceived(.update(update))), [.startTimer(.hold, seconds: 90), .deliver(update)])
    }

    func testRouteRefreshOnlyForNegotiatedFamilies() {
        var fsm = established()
        XCTAssertEqual(fsm.handle(.messageReceived(.routeRefresh(RouteRefreshMessage(family: .ipv4Unicast)))).last,
                       .routeRefreshRequested(.ipv4Unicast))
        XCTAssertEqual(fsm.handle(.messageReceived(.routeRefresh(RouteRefreshMessage(family: .ipv6Unicast)))),
                       [.startTimer(.hold, seconds: 90)])
    }

    func testBadPeerAS() {
        var fsm = openSent()
        let actions = fsm.handle(.messageReceived(peerOpen(asn: 65099)))
        XCTAssertEqual(actions.first, .send(.notification(NotificationMessage(.openMessage(.badPeerAS)))))
        XCTAssertEqual(fsm.state, .idle)
        XCTAssertEqual(fsm.lastDownReason, .notificationSent(NotificationMessage(.openMessage(.badPeerAS))))
    }

    func testBadPeerASFromInconsistentMyAS() {
        let open = OpenMessage(myAS: 65002, holdTime: 90, bgpIdentifier: 2, capabilities: [.fourOctetAS(65001)])
        XCTAssertThrowsError(try OpenNegotiation.negotiate(peer: open, config: config)) { error in
            XCTAssertEqual((error as? NotificationMessage)?.error, .openMessage(.badPeerAS))
        }
    }

    func testSameIdentifierIsBadForIBGPButFineForEBGP() {
        var fsm = openSent()
        XCTAssertEqual(fsm.handle(.messageReceived(peerOpen(id: 0x0A00_0001))).first,
                       .send(.notification(NotificationMessage(.openMessage(.badBGPIdentifier)))))
        let ebgp = SessionConfig(localAS: 65001, peerAS: 65002, bgpIdentifier: 0x0A00_0001)
        XCTAssertNoThrow(try OpenNegotiation.negotiate(peer: OpenMessage(asn: 65002, holdTime: 90, bgpIdentifier: 0x0A00_0001, capabilities: []),
                                                       config: ebgp))
    }

    func testNegotiationIntersectsCapabilities() throws {
        let gr = GracefulRestartCapability(restartTime: 90, families: [.init(.ipv4Unicast, forwardingPreserved: true)])
        let cfg = SessionConfig(localAS: 65001, peerAS: nil, bgpIdentifier: 1, families: [.ipv4Unicast, .ipv6Unicast],
                                extendedMessages: true, gracefulRestart: gr)
        let peer = OpenMessage(myAS: 65002, holdTime: 60, bgpIdentifier: 2,
                               capabilities: [.multiprotocol(.ipv6Unicast), .extendedMessage, .gracefulRestart(gr)])
        let s = try OpenNegotiation.negotiate(peer: peer, config: cfg)
        XCTAssertEqual(s.families, [.ipv6Unicast])
        XCTAssertFalse(s.routeRefresh)
        XCTAssertTrue(s.extendedMessages)
        XCTAssertFalse(s.fourOctetAS)
        XCTAssertEqual(s.peerGracefulRestart, gr)
        XCTAssertTrue(s.externalPeer)
        XCTAssertEqual(s.peerAS, 65002)
        XCTAssertEqual(s.wireContext, WireContext(fourOctetAS: false, extendedMessages: true, externalPeer: true, peerAS: 65002))
    }

    func testUnexpectedMessagesAreFSMErrors() {
        var sent = openSent()
        XCTAssertEqual(sent.handle(.messageReceived(.keepalive)).first,
                       .send(.notification(NotificationMessage(.finiteStateMachine(.unexpectedMessageInOpenSent)))))
        var confirm = openSent()
        _ = confirm.handle(.messageReceived(peerOpen()))
        XCTAssertEqual(confirm.handle(.messageReceived(.update(UpdateMessage()))).first,
                       .send(.notification(NotificationMessage(.finiteStateMachine(.unexpectedMessageInOpenConfirm)))))
        var est = established()
        let actions = est.handle(.messageReceived(peerOpen()))
        XCTAssertEqual(actions.first, .send(.notification(NotificationMessage(.finiteStateMachine(.unexpectedMessageInEstablished)))))
        XCTAssertTrue(actions.contains(.down(.notificationSent(NotificationMessage(.finiteStateMachine(.unexpectedMessageInEstablished))))))
    }

    func testDecodeErrorSendsItsNotification() {
        var fsm = established()
        let n = NotificationMessage(.updateMessage(.invalidNetworkField))
        let actions = fsm.handle(.decodeError(n))
        XCTAssertEqual(actions.prefix(2), [.send(.notification(n)), .closeConnection])
        XCTAssertTrue(actions.contains(.down(.notificationSent(n))))
    }

    func testNotificationReceivedEndsSession() {
        var fsm = established()
        let n = NotificationMessage.cease(.administrativeShutdown, communication: "upgrade")
        let actions = fsm.handle(.messageReceived(.notification(n)))
        XCTAssertEqual(actions.first, .closeConnection)
        XCTAssertTrue(actions.contains(.down(.notificationReceived(n))))
        XCTAssertEqual(fsm.state, .idle)
    }

    func testManualStopSendsCeaseWithCommunicationAndDoesNotRestart() {
        var fsm = established()
        let n = NotificationMessage.cease(.administrativeShutdown, communication: "node drained")
        let actions = fsm.handle(.manualStop(n))
        XCTAssertEqual(actions.first, .send(.notification(n)))
        XCTAssertTrue(actions.contains(.down(.manualStop(n))))
        XCTAssertFalse(actions.contains(.startTimer(.idleHold, seconds: 5)))
        XCTAssertEqual(fsm.connectRetryCounter, 0)
        var plain = openSent()
        XCTAssertEqual(plain.handle(.manualStop(nil)).first, .send(.notification(NotificationMessage(.cease(.administrativeShutdown)))))
    }

    func testTcpFailureInOpenSentFallsBackToActive() {
        var fsm = openSent()
        XCTAssertEqual(fsm.handle(.tcpConnectionFails), [.closeConnection, .stopTimer(.hold), .startTimer(.connectRetry, seconds: 120)])
        XCTAssertEqual(fsm.state, .active)
    }

    func testTcpFailureInEstablishedReportsDown() {
        var fsm = established()
        XCTAssertTrue(fsm.handle(.tcpConnectionFails).contains(.down(.connectionFailed)))
        XCTAssertNotNil(fsm.negotiated, "kept for graceful restart bookkeeping")
        _ = fsm.handle(.manualStart)
        XCTAssertNil(fsm.negotiated)
    }

    func testIdleIgnoresEverythingButStart() {
        var fsm = SessionFSM(config: config)
        XCTAssertEqual(fsm.handle(.messageReceived(.keepalive)), [])
        XCTAssertEqual(fsm.handle(.timerExpired(.hold)), [])
        XCTAssertEqual(fsm.handle(.tcpConnectionFails), [])
        XCTAssertEqual(fsm.state, .idle)
    }

    func testAutomaticStopSendsItsNotificationAndRestartsLater() {
        var fsm = established()
        let n = NotificationMessage(.cease(.maximumPrefixesReached))
        let actions = fsm.handle(.automaticStop(n))
        XCTAssertEqual(actions.first, .send(.notification(n)))
        XCTAssertTrue(actions.contains(.down(.notificationSent(n))))
        XCTAssertEqual(actions.last, .startTimer(.idleHold, seconds: 5))
    }

    func testConfiguredHoldTimeIsZeroOrAtLeastThree() {
        XCTAssertEqual(SessionConfig(localAS: 1, peerAS: 1, bgpIdentifier: 1, holdTime: 2).holdTime, 3)
        XCTAssertEqual(SessionConfig(localAS: 1, peerAS: 1, bgpIdentifier: 1, holdTime: 0).holdTime, 0)
        XCTAssertEqual(SessionConfig(localAS: 1, peerAS: 1, bgpIdentifier: 1, holdTime: 9).openMessage.holdTime, 9)
    }
}
