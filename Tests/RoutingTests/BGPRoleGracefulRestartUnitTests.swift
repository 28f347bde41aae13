import Foundation
@testable import Routing
import XCTest

/// The pure pieces of the role's own graceful restart: the marker a graceful stop leaves for
/// the next start, the gate that holds our old kernel routes until every peer's End-of-RIB, and
/// the environment switch. (The whole restart against BIRD is in BGPRoleGracefulRestartTests
/// of the integration tests.)
final class BGPRoleGracefulRestartUnitTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "bgprolegr-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testMarkerWithinRestartTimeMeansRestartingAndIsReadOnce() throws {
        let marker = GracefulRestartMarker(path: dir + "/sub/bgp-graceful-restart")
        let stopped = Date(timeIntervalSince1970: 1_800_000_000)
        try marker.write(stoppedAt: stopped)
        XCTAssertTrue(marker.consume(restartSeconds: 120, now: stopped.addingTimeInterval(30)))
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker.path), "consumed")
        XCTAssertFalse(marker.consume(restartSeconds: 120, now: stopped.addingTimeInterval(31)), "a second start is a fresh one")
    }

    func testMarkerOlderThanRestartTimeOrFromTheFutureOrGarbageIsStale() throws {
        let marker = GracefulRestartMarker(path: dir + "/m")
        let stopped = Date(timeIntervalSince1970: 1_800_000_000)
        try marker.write(stoppedAt: stopped)
        XCTAssertFalse(marker.consume(restartSeconds: 120, now: stopped.addingTimeInterval(121)), "peers have dropped our routes by now")
        try marker.write(stoppedAt: stopped)
        XCTAssertFalse(marker.consume(restartSeconds: 120, now: stopped.addingTimeInterval(-5)))
        try "yesterday\n".write(toFile: marker.path, atomically: true, encoding: .utf8)
        XCTAssertFalse(marker.consume(restartSeconds: 120))
        XCTAssertFalse(GracefulRestartMarker(path: dir + "/none").consume(restartSeconds: 120))
    }

    func peer(_ address: String, _ state: SessionState, since: Date, theirs: [AddressFamily]?, eor: Set<AddressFamily>)
        -> (status: BGPPeerStatus, graceful: GracefulRestartStatus?) {
        let ours = GracefulRestartCapability(restartTime: 120, families: [.init(.ipv4Unicast, forwardingPreserved: true),
                                                                          .init(.ipv6Unicast, forwardingPreserved: true)])
        var gr = GracefulRestartStatus(local: ours, state: GracefulRestartState(), timerRunning: false)
        gr.peer = theirs.map { GracefulRestartCapability(restartTime: 90, families: $0.map { .init($0, forwardingPreserved: true) }) }
        gr.endOfRIBReceived = eor
        let status = BGPPeerStatus(address: IPAddress(address)!, asn: 65002, state: state, since: since, lastError: nil,
                                   prefixesReceived: 0, prefixesAdvertised: 0, updatesReceived: 0)
        return (status, gr)
    }

    func testGateWaitsForEveryPeersEndOfRIBForTheFamiliesBothRestart() {
        let now = Date()
        let gate = KernelResyncGate(limit: 120)
        let a = peer("10.0.0.1", .established, since: now, theirs: [.ipv4Unicast], eor: [])
        let aDone = peer("10.0.0.1", .established, since: now, theirs: [.ipv4Unicast], eor: [.ipv4Unicast])
        let b = peer("10.0.0.2", .established, since: now, theirs: [.ipv4Unicast, .ipv6Unicast], eor: [.ipv4Unicast])
        let bDone = peer("10.0.0.2", .established, since: now, theirs: [.ipv4Unicast, .ipv6Unicast], eor: [.ipv4Unicast, .ipv6Unicast])
        XCTAssertFalse(gate.ready(peers: [a, bDone], configured: 2, elapsed: 1, now: now))
        XCTAssertFalse(gate.ready(peers: [aDone, b], configured: 2, elapsed: 1, now: now), "IPv6 End-of-RIB still missing")
        XCTAssertTrue(gate.ready(peers: [aDone, bDone], configured: 2, elapsed: 1, now: now))
        XCTAssertFalse(gate.ready(peers: [aDone], configured: 2, elapsed: 1, now: now), "a configured peer without a session")
        let down = peer("10.0.0.1", .active, since: now, theirs: [.ipv4Unicast], eor: [.ipv4Unicast])
        XCTAssertFalse(gate.ready(peers: [down, bDone], configured: 2, elapsed: 1, now: now))
        XCTAssertTrue(gate.ready(peers: [down, b], configured: 2, elapsed: 120, now: now), "the time limit ends the wait")
        XCTAssertFalse(gate.ready(peers: [], configured: 0, elapsed: 1, now: now), "no peers: wait for the limit")
    }

    func testGateTakesAPeerWithoutGracefulRestartAfterItSettles() {
        let now = Date()
        let gate = KernelResyncGate(limit: 30, settleSeconds: 3)
        let fresh = peer("10.0.0.1", .established, since: now.addingTimeInterval(-1), theirs: nil, eor: [])
        let settled = peer("10.0.0.1", .established, since: now.addingTimeInterval(-4), theirs: nil, eor: [])
        XCTAssertFalse(gate.ready(peers: [fresh], configured: 1, elapsed: 1, now: now))
        XCTAssertTrue(gate.ready(peers: [settled], configured: 1, elapsed: 4, now: now))
    }

    func testEnvironmentSwitch() throws {
        XCTAssertFalse(try BGPRoleOptions.fromEnvironment([:]).gracefulRestartOnStop, "a Cease with a shutdown communication by default")
        XCTAssertTrue(try BGPRoleOptions.fromEnvironment(["CALICO_BGP_GRACEFUL_RESTART": "true"]).gracefulRestartOnStop)
        XCTAssertEqual(try BGPRoleOptions.fromEnvironment([:]).restartStatePath, "/var/run/calico/bgp-graceful-restart")
        let off = try BGPRoleOptions.fromEnvironment(["CALICO_BGP_GRACEFUL_RESTART": "false", "CALICO_BGP_RESTART_STATE_FILE": "/tmp/x",
                                                      "CALICO_NAMESPACE": "calico-system"])
        XCTAssertFalse(off.gracefulRestartOnStop)
        XCTAssertEqual(off.restartStatePath, "/tmp/x")
        XCTAssertEqual(off.secretNamespace, "calico-system")
        XCTAssertThrowsError(try BGPRoleOptions.fromEnvironment(["CALICO_BGP_GRACEFUL_RESTART": "maybe"])) {
            XCTAssertTrue("\($0)".contains("CALICO_BGP_GRACEFUL_RESTART must be true or false"), "\($0)")
        }
    }
}
