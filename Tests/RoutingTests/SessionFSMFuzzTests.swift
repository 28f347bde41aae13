import XCTest
@testable import Routing

/// Random event sequences: the machine never traps and keeps its timer bookkeeping consistent.
final class SessionFSMFuzzTests: XCTestCase {
    func testRandomEventSequencesKeepInvariants() {
        var rng = FuzzTests.SeededGenerator(seed: 2024)
        let config = SessionConfig(localAS: 65001, peerAS: 65001, bgpIdentifier: 1, holdTime: 9)
        let events: [SessionEvent] = [
            .manualStart, .automaticStart, .manualStartPassive, .manualStop(nil),
            .automaticStop(NotificationMessage(.cease(.outOfResources))),
            .timerExpired(.connectRetry), .timerExpired(.hold), .timerExpired(.keepalive), .timerExpired(.idleHold),
            .tcpConnected(.outbound), .tcpConnected(.inbound), .tcpConnectionFails,
            .messageReceived(.open(OpenMessage(asn: 65001, holdTime: 90, bgpIdentifier: 2, capabilities: []))),
            .messageReceived(.open(OpenMessage(asn: 65001, holdTime: 0, bgpIdentifier: 2, capabilities: []))),
            .messageReceived(.open(OpenMessage(asn: 65009, holdTime: 90, bgpIdentifier: 2, capabilities: []))),
            .messageReceived(.keepalive), .messageReceived(.update(UpdateMessage())),
            .messageReceived(.routeRefresh(RouteRefreshMessage(family: .ipv4Unicast))),
            .messageReceived(.notification(NotificationMessage(.cease(.peerDeconfigured)))),
            .decodeError(NotificationMessage(.updateMessage(.malformedAttributeList))), .openCollisionDump,
        ]
        var reached = Set<SessionState>()
        for _ in 0..<200 {
            var fsm = SessionFSM(config: config)
            var running = Set<SessionTimer>()
            var established = false
            for _ in 0..<200 {
                let event = events[Int.random(in: 0..<events.count, using: &rng)]
                for action in fsm.handle(event) {
                    switch action {
                    case .startTimer(let t, let seconds):
                        running.insert(t)
                        XCTAssertGreaterThan(seconds, 0)
                    case .stopTimer(let t): running.remove(t)
                    case .established:
                        XCTAssertFalse(established, "established twice without going down")
                        established = true
                    case .down:
                        XCTAssertTrue(established, "down without having been established")
                        established = false
                    case .deliver, .routeRefreshRequested:
                        XCTAssertEqual(fsm.state, .established)
                    default: break
                    }
                }
                reached.insert(fsm.state)
                XCTAssertEqual(established, fsm.state == .established)
                if fsm.state == .idle { XCTAssertTrue(running.isSubset(of: [.idleHold]), "\(running) running in Idle") }
                if fsm.state == .established, let hold = fsm.negotiated?.holdTime {
                    XCTAssertEqual(running.contains(.hold), hold > 0)
                }
            }
        }
        XCTAssertEqual(reached, Set(SessionState.allCases))
    }
}
