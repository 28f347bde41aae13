import Foundation
import Routing
import XCTest

/// Stopping a speaker while a connect to its peer is still blocked (the peer's address does not
/// answer ARP, so connect(2) waits about 3 s): the stop is prompt and nothing reaches the
/// event loop after it shut down. SwiftNIO only prints "Cannot schedule tasks on an EventLoop
/// that has already shut down" in that case, so standard error is captured and checked.
final class BGPSpeakerStopOrderTests: XCTestCase {
    override func setUpWithError() throws {
        guard getuid() == 0 else { throw DevServerError("needs root (network namespaces)") }
    }

    func testShutdownAndStopForRestartWithConnectsInFlight() async throws {
        let lab = try BGPLab()
        defer { lab.tearDown() }
        let capture = try StandardErrorCapture(directory: lab.dir)
        var captured: String?
        defer { if captured == nil { _ = capture.finish() } }
        let nobody = "10.99.\(lab.subnet).77" // on the lab's link, owned by no one

        var stopped: [Double] = []
        for restart in [false, true] {
            var config = lab.speakerConfig()
            config.listenAddress = nil // two speakers in one namespace; connecting is what this tests
            let speaker = BGPSpeaker(config: config)
            try await speaker.start()
            try await speaker.addPeer(BGPPeerConfig(address: IPAddress(nobody)!, asn: 65002, holdTime: 9, connectRetrySeconds: 1))
            try await Task.sleep(nanoseconds: 500_000_000)
            let state = await speaker.state(nobody)
            XCTAssertEqual(state, .connect, "a connect is in flight")
            let t0 = Date()
            if restart { await speaker.stopForRestart() } else { await speaker.shutdown() }
            stopped.append(Date().timeIntervalSince(t0))
        }
        // The blocked connects would have returned (ARP gives up after about 3 s) by now.
        try await Task.sleep(nanoseconds: 4_000_000_000)
        captured = capture.finish()
        XCTAssertFalse(captured!.contains("Cannot schedule tasks"), "a task reached a shut-down event loop:\n\(captured!)")
        for s in stopped { XCTAssertLessThan(s, 1.5, "stopping waits for no connect") }
    }
}
