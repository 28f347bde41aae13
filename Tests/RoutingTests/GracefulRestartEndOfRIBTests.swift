@testable import Routing
import XCTest

/// RFC 4724 4.2 receiving side after the peer is back: the stale-path timer lasts until the last
/// awaited End-of-RIB, and the state tells which End-of-RIBs the current session delivered.
final class GracefulRestartEndOfRIBTests: XCTestCase {
    let both: [AddressFamily] = [.ipv4Unicast, .ipv6Unicast]

    func session(_ gr: GracefulRestartCapability) -> NegotiatedSession {
        NegotiatedSession(peerOpen: OpenMessage(myAS: 1, holdTime: 90, bgpIdentifier: 2, capabilities: []),
                          peerAS: 1, peerIdentifier: 2, holdTime: 90, fourOctetAS: true, families: both,
                          routeRefresh: true, extendedMessages: false, peerGracefulRestart: gr, externalPeer: false)
    }

    func capability(restarting: Bool) -> GracefulRestartCapability {
        GracefulRestartCapability(restarting: restarting, restartTime: 30,
                                  families: both.map { .init($0, forwardingPreserved: restarting) })
    }

    func testStalePathTimerStopsAtTheLastEndOfRIB() {
        var gr = GracefulRestartState(stalePathSeconds: 60)
        _ = gr.sessionEstablished(session(capability(restarting: false)))
        XCTAssertEqual(gr.sessionDown(.connectionFailed, session: session(capability(restarting: false))),
                       [.retainStale(both, restartSeconds: 30)])
        XCTAssertEqual(gr.sessionEstablished(session(capability(restarting: true))), [.stopRestartTimer, .startStalePathTimer(seconds: 60)])
        XCTAssertEqual(gr.peerCapability?.restarting, true, "the restarted peer's R bit is kept for status")
        XCTAssertEqual(gr.endOfRIBReceived, [])
        XCTAssertEqual(gr.endOfRIB(.ipv6Unicast), [.purgeStale(.ipv6Unicast)], "IPv4 still waits: the timer keeps running")
        XCTAssertEqual(gr.endOfRIB(.ipv4Unicast), [.purgeStale(.ipv4Unicast), .stopRestartTimer])
        XCTAssertEqual(gr.endOfRIBReceived, Set(both))
        XCTAssertEqual(gr.awaitingEndOfRIB, [])
        XCTAssertEqual(gr.timerExpired(), [], "a late timer finds nothing stale")
    }

    func testEndOfRIBWithoutARestartOnlyRecordsIt() {
        var gr = GracefulRestartState()
        XCTAssertEqual(gr.sessionEstablished(session(capability(restarting: false))), [])
        XCTAssertEqual(gr.endOfRIB(.ipv4Unicast), [])
        XCTAssertEqual(gr.endOfRIBReceived, [.ipv4Unicast])
        // A new session starts a new record.
        _ = gr.sessionDown(.connectionFailed, session: session(capability(restarting: false)))
        _ = gr.sessionEstablished(session(capability(restarting: true)))
        XCTAssertEqual(gr.endOfRIBReceived, [])
    }
}
