import Core
import Foundation
import Routing
import XCTest

/// RFC 4724 receiving side against real peers, root, in network namespaces (see `BGPLab`): the
/// peer is SIGKILLed (no NOTIFICATION) and comes back as a restarting speaker; our kernel is
/// sampled every 50 ms from the kill until the new session's End-of-RIB, and the routes the
/// peer sent must never leave it. The prefix the peer no longer announces after its restart
/// goes at End-of-RIB; with a peer that stays down, everything goes when its restart time ends.
final class BGPGracefulRestartInteropTests: XCTestCase {
    let kept4 = "172.30.1.0/24", dropped4 = "172.30.2.0/24", kept6 = "fd30:1::/64"

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw DevServerError("needs root (network namespaces)") }
    }

    /// Our speaker with its Loc-RIB programmed into `ours`'s kernel, as the BGP role runs it.
    final class Ours {
        let speaker: BGPSpeaker
        let kernel: OurKernelRoutes
        let peer: IPAddress
        private let feeding: Task<Void, Never>

        init(_ lab: BGPLab, peerAS: UInt32) async throws {
            speaker = BGPSpeaker(config: lab.speakerConfig())
            try await speaker.start()
            let programmer = try KernelRouteProgrammer(namespace: NetNamespace(path: lab.namespacePath))
            let changes = speaker.locRIBChanges
            feeding = Task { for await batch in changes { await programmer.apply(batch) } }
            kernel = try OurKernelRoutes(lab)
            peer = IPAddress(lab.theirV4)!
            try await speaker.addPeer(BGPPeerConfig(address: peer, asn: peerAS, holdTime: 9, connectRetrySeconds: 1))
        }

        /// The feed ends with the speaker; cancelling it after the speaker's event loop shut
        /// down would be a late task for that loop.
        func stop() async {
            await speaker.shutdown()
            await feeding.value
        }
    }

    /// Session up with graceful restart negotiated both ways and the daemon's routes in our kernel.
    func establish(_ lab: BGPLab, _ daemon: RestartablePeerDaemon) async throws -> Ours {
        try daemon.start(v4: [kept4, dropped4], v6: [kept6], restarting: false)
        let ours = try await Ours(lab, peerAS: daemon.asn)
        await eventually(20, "Established with \(daemon.name)") { await ours.speaker.state(lab.theirV4) == .established }
        await eventually(15, "\(daemon.name)'s routes in our Loc-RIB and kernel") {
            let k = ours.kernel.read()
            let a = await ours.speaker.has(self.kept4), b = await ours.speaker.has(self.dropped4)
            let c = await ours.speaker.has(self.kept6)
            return a && b && c && k[self.kept4] == lab.theirV4 && k[self.dropped4] == lab.theirV4 && k[self.kept6] == lab.theirV6
        }
        let gr = await ours.speaker.gracefulRestartStatus(ours.peer)
        XCTAssertEqual(gr?.local?.restartTime, 120, "we advertise graceful restart")
        XCTAssertEqual(gr?.peer?.restartTime, UInt16(daemon.restartTime), "\(daemon.name)'s capability is in our peer state")
        XCTAssertEqual(Set(gr?.peer?.families.map(\.family) ?? []), [.ipv4Unicast, .ipv6Unicast])
        XCTAssertEqual(gr?.peer?.restarting, daemon.restartBitOnFreshStart, "R bit on a fresh start")
        return ours
    }

    /// Kill, restart in graceful-restart mode without `dropped4`, and watch our kernel throughout.
    /// `silently`: the peer's FIN and RST never reach us (as when its host dies), so our session
    /// stays Established until the restarted peer's new connection displaces it (RFC 4724 4.2).
    func peerRestartKeepsKernelRoutes(_ lab: BGPLab, _ daemon: RestartablePeerDaemon, silently: Bool = false) async throws {
        let ours = try await establish(lab, daemon)
        if silently {
            try lab.inTheirs("/usr/sbin/nft", "add table inet grsilent; add chain inet grsilent out { type filter hook output priority 0; }; "
                             + "add rule inet grsilent out tcp flags & (fin | rst) != 0 drop")
        }
        let killed = Date()
        daemon.kill()
        var samples: [RestartSample]
        if silently {
            samples = await sampleWhileRestarting(ours.speaker, peer: ours.peer, kernel: ours.kernel, since: killed, timeout: 0.5) { _ in false }
            XCTAssertTrue(samples.allSatisfy { $0.state == .established }, "we cannot have noticed a silent death")
        } else {
            // A restart takes a moment: stay down for a second after we noticed.
            samples = await sampleWhileRestarting(ours.speaker, peer: ours.peer, kernel: ours.kernel, since: killed, timeout: 10) {
                $0.state != .established && $0.seconds >= 1
            }
            guard let down = samples.last, down.state != .established else {
                return XCTFail("the session did not go down after \(daemon.name) was killed")
            }
            XCTAssertEqual(down.graceful?.staleFamilies, [.ipv4Unicast, .ipv6Unicast], "routes kept, marked stale")
            XCTAssertEqual(down.graceful?.timerRunning, true, "the restart timer runs while the peer is away")
            let staleInRIB = await ours.speaker.locRIB()[IPPrefix(kept4)!]?.best.stale
            XCTAssertEqual(staleInRIB, true)
        }

        try daemon.start(v4: [kept4], v6: [kept6], restarting: true)
        // Done once the restarted peer's session (R bit) delivered End-of-RIB for both families.
        samples += await sampleWhileRestarting(ours.speaker, peer: ours.peer, kernel: ours.kernel, since: killed, timeout: 60) {
            $0.state == .established && $0.graceful?.peer?.restarting == true
                && $0.graceful?.endOfRIBReceived.isSuperset(of: [.ipv4Unicast, .ipv6Unicast]) == true
        }
        guard let last = samples.last, last.state == .established, last.graceful?.peer?.restarting == true else {
            return XCTFail("\(daemon.name) did not come back with the R bit within 60 s: \(String(describing: samples.last))")
        }
        XCTAssertEqual(last.graceful?.endOfRIBReceived, [.ipv4Unicast, .ipv6Unicast], "End-of-RIB for both families")
        XCTAssertEqual(Set(last.graceful?.peer?.families.filter(\.forwardingPreserved).map(\.family) ?? []),
                       [.ipv4Unicast, .ipv6Unicast], "F bits: \(daemon.name) preserved forwarding")
        XCTAssertGreaterThan(samples.count, 20, "the kernel was sampled throughout the restart")
        // Back: the first Established sample after the last one that was not (silently: the first with the R bit).
        let lastDown = samples.lastIndex { $0.state != .established }
        let back = (lastDown.map { samples[min($0 + 1, samples.count - 1)] }
                    ?? samples.first { $0.graceful?.peer?.restarting == true })?.seconds ?? -1
        print(String(format: "%@ restart: %d kernel samples over %.2f s; re-established at %.2f s, End-of-RIB by %.2f s after the kill",
                     daemon.name, samples.count, last.seconds, back, last.seconds))
        let view = daemon.gracefulRestartView()
        XCTAssertTrue(view.negotiated, "\(daemon.name) sees graceful restart negotiated:\n\(view.text)")

        // From the kill to End-of-RIB the routes never left the kernel.
        XCTAssertEqual(gaps(of: kept4, in: samples), [], "\(kept4) left our kernel during \(daemon.name)'s restart")
        XCTAssertEqual(gaps(of: kept6, in: samples), [], "\(kept6) left our kernel during \(daemon.name)'s restart")
        // The prefix it no longer announces stayed until its End-of-RIB (kernel read before status).
        let beforeEndOfRIB = samples.filter {
            !($0.state == .established && $0.graceful?.peer?.restarting == true
              && $0.graceful?.endOfRIBReceived.contains(.ipv4Unicast) == true)
        }
        XCTAssertEqual(gaps(of: dropped4, in: beforeEndOfRIB), [], "\(dropped4) must stay until End-of-RIB")

        // After End-of-RIB: the stale route is gone, the rest is fresh and still in the kernel.
        await eventually(5, "\(dropped4) removed after End-of-RIB") {
            let inRIB = await ours.speaker.has(self.dropped4)
            return !inRIB && ours.kernel.read()[self.dropped4] == nil
        }
        let rib = await ours.speaker.locRIB()
        XCTAssertEqual(rib[IPPrefix(kept4)!]?.best.stale, false)
        XCTAssertEqual(rib[IPPrefix(kept6)!]?.best.stale, false)
        let k = ours.kernel.read()
        XCTAssertEqual(k[kept4], lab.theirV4)
        XCTAssertEqual(k[kept6], lab.theirV6)
        let gr = await ours.speaker.gracefulRestartStatus(ours.peer)
        XCTAssertEqual(gr?.staleFamilies, [])
        XCTAssertEqual(gr?.timerRunning, false, "no timer once End-of-RIB arrived")
        await ours.stop()
    }

    /// Kill and do not come back: the stale routes stay for the peer's restart time, then go.
    func restartTimerExpiryRemovesRoutes(_ lab: BGPLab, _ daemon: RestartablePeerDaemon) async throws {
        let ours = try await establish(lab, daemon)
        let killed = Date()
        daemon.kill()
        let all = [kept4, dropped4, kept6]
        let samples = await sampleWhileRestarting(ours.speaker, peer: ours.peer, kernel: ours.kernel, since: killed,
                                                  timeout: Double(daemon.restartTime) + 10) { (s: RestartSample) -> Bool in
            all.allSatisfy { s.kernel[$0] == nil }
        }
        let restart = Double(daemon.restartTime)
        let firstGone = samples.first { (s: RestartSample) -> Bool in all.contains { s.kernel[$0] == nil } }
        guard let gone = firstGone else {
            return XCTFail("the stale routes were still in the kernel \(restart + 10) s after the kill")
        }
        print(String(format: "%@ stayed down: routes left our kernel %.2f s after the kill (restart time %.0f s)",
                     daemon.name, gone.seconds, restart))
        XCTAssertGreaterThanOrEqual(gone.seconds, restart - 0.2, "routes left before the restart time (\(restart) s) ended")
        XCTAssertLessThan(gone.seconds, restart + 3, "routes stayed well past the restart time (\(restart) s)")
        let last = samples.last
        XCTAssertTrue(all.allSatisfy { last?.kernel[$0] == nil }, "every route of the dead peer left the kernel")
        let timerSeen = samples.contains { (s: RestartSample) -> Bool in s.state != .established && s.graceful?.timerRunning == true }
        XCTAssertTrue(timerSeen, "the restart timer ran while the peer was away")
        let count = await ours.speaker.locRIBCount()
        XCTAssertEqual(count, 0, "and left the Loc-RIB")
        let gr = await ours.speaker.gracefulRestartStatus(ours.peer)
        XCTAssertEqual(gr?.staleFamilies, [])
        XCTAssertEqual(gr?.timerRunning, false)
        await ours.stop()
    }

    func inLab(_ body: (BGPLab) async throws -> Void) async throws {
        let lab = try BGPLab()
        defer { lab.tearDown() }
        try await body(lab)
    }

    func testBirdRestartWithGracefulRestartKeepsKernelRoutes() async throws {
        try await inLab { try await peerRestartKeepsKernelRoutes($0, BirdRestartablePeer($0)) }
    }

    func testBirdDyingSilentlyAndRestartingDisplacesTheOldSessionKeepingKernelRoutes() async throws {
        try await inLab { try await peerRestartKeepsKernelRoutes($0, BirdRestartablePeer($0), silently: true) }
    }

    func testBirdStaysDownRoutesLeaveAfterRestartTime() async throws {
        try await inLab { try await restartTimerExpiryRemovesRoutes($0, BirdRestartablePeer($0, restartTime: 4)) }
    }

    func testGoBGPRestartWithGracefulRestartKeepsKernelRoutes() async throws {
        try await inLab { try await peerRestartKeepsKernelRoutes($0, GoBGPRestartablePeer($0)) }
    }

    func testGoBGPStaysDownRoutesLeaveAfterRestartTime() async throws {
        try await inLab { try await restartTimerExpiryRemovesRoutes($0, GoBGPRestartablePeer($0, restartTime: 4)) }
    }

    /// RFC 4724 restarting side against GoBGP: we stop without a NOTIFICATION and come back with
    /// the R bit; GoBGP keeps our routes all the while (sampled every ~100 ms), and the one we no
    /// longer originate goes at our End-of-RIB. (BIRD's side is in BGPInteropBirdTests.)
    func testOurRestartKeepsOurRoutesInGoBGP() async throws {
        try await inLab { lab in
            let gobgp = GoBGPRestartablePeer(lab)
            try gobgp.start(v4: [], v6: [], restarting: false)
            let kept = "192.168.77.0/26", dropped = "192.168.78.0/26"
            let inGoBGP = { (prefix: String) -> Bool in ((try? gobgp.gobgp(["global", "rib", "-a", "ipv4"])) ?? "").contains(prefix) }
            let peer = BGPPeerConfig(address: IPAddress(lab.theirV4)!, asn: gobgp.asn, holdTime: 9, connectRetrySeconds: 1)
            let first = BGPSpeaker(config: lab.speakerConfig())
            try await first.start()
            await first.originate([IPPrefix(kept)!, IPPrefix(dropped)!])
            try await first.addPeer(peer)
            await eventually(20, "our routes in GoBGP") { inGoBGP(kept) && inGoBGP(dropped) }

            await first.stopForRestart()
            let stopped = Date()
            var missing: [String] = []
            func sample(_ prefixes: [String]) {
                for p in prefixes where !inGoBGP(p) { missing.append(String(format: "%@ at %.2fs", p, Date().timeIntervalSince(stopped))) }
            }
            while Date().timeIntervalSince(stopped) < 1.5 {
                sample([kept, dropped])
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            let view = gobgp.gracefulRestartView()
            XCTAssertTrue(view.negotiated, "GoBGP negotiated graceful restart with us:\n\(view.text)")

            var config = lab.speakerConfig()
            config.restarting = true
            let second = BGPSpeaker(config: config)
            try await second.start()
            await second.originate(IPPrefix(kept)!)
            try await second.addPeer(peer)
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline, await second.state(lab.theirV4) != .established {
                sample([kept])
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            let state = await second.state(lab.theirV4)
            XCTAssertEqual(state, .established)
            await eventually(10, "GoBGP drops the route we no longer originate at our End-of-RIB") {
                sample([kept])
                return !inGoBGP(dropped)
            }
            XCTAssertEqual(missing, [], "GoBGP kept our routes while we restarted")
            XCTAssertTrue(inGoBGP(kept))
            await second.shutdown()
        }
    }

    func testFRRRestartWithGracefulRestartKeepsKernelRoutes() async throws {
        guard FileManager.default.isExecutableFile(atPath: FRRRestartablePeer.bgpd) else {
            throw DevServerError("FRR is not installed (scripts/test.sh installs the frr package)")
        }
        try await inLab { try await peerRestartKeepsKernelRoutes($0, FRRRestartablePeer($0)) }
    }
}
