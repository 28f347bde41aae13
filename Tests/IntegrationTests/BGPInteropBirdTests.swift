import Foundation
import Routing
import XCTest

/// Our speaker against BIRD 2 (`bird`, Debian bird2) in network namespaces; see `BGPLab`.
final class BGPInteropBirdTests: XCTestCase {
    struct BirdOptions {
        var asn: UInt32 = 65002
        var password: String?
        var holdTime = 9
        var gracefulRestart = true
    }

    func birdConfig(_ lab: BGPLab, _ o: BirdOptions, ourAS: UInt32) -> String {
        let isInternal = o.asn == ourAS
        let direct = isInternal ? "direct;" : ""
        return """
        router id \(lab.theirV4);
        log "\(lab.dir)/bird.log" all;
        protocol device {}
        protocol static s4 { ipv4; route 172.30.1.0/24 blackhole; route 172.30.2.0/24 blackhole; }
        protocol static s6 { ipv6; route fd30:1::/64 blackhole; }
        protocol bgp ours {
          local \(lab.theirV4) as \(o.asn);
          neighbor \(lab.ourV4) as \(ourAS);
          hold time \(o.holdTime);
          connect retry time 2;
          \(direct)
          error wait time 1, 2;
          \(o.password.map { "password \"\($0)\";" } ?? "")
          graceful restart \(o.gracefulRestart ? "on" : "off");
          ipv4 { import all; export all; next hop self; };
          ipv6 { import all; export all; next hop address \(lab.theirV6); };
        }
        """
    }

    func startBird(_ lab: BGPLab, _ o: BirdOptions, ourAS: UInt32 = 64512) throws -> Process {
        let conf = lab.dir + "/bird.conf"
        try birdConfig(lab, o, ourAS: ourAS).write(toFile: conf, atomically: true, encoding: .utf8)
        return try lab.launch("/usr/sbin/bird", ["-f", "-c", conf, "-s", lab.dir + "/bird.ctl", "-P", lab.dir + "/bird.pid"])
    }

    func birdRoutes(_ lab: BGPLab) -> String {
        (try? lab.inTheirs("/usr/sbin/birdc", "-s", lab.dir + "/bird.ctl", "show", "route", "protocol", "ours")) ?? ""
    }

    /// Session up, routes both ways in both families, withdrawals both ways.
    func exchange(ourAS: UInt32, birdAS: UInt32) async throws {
        let lab = try BGPLab()
        defer { lab.tearDown() }
        _ = try startBird(lab, BirdOptions(asn: birdAS), ourAS: ourAS)
        let speaker = BGPSpeaker(config: lab.speakerConfig(asn: ourAS))
        try await speaker.start()
        try await speaker.addPeer(BGPPeerConfig(address: IPAddress(lab.theirV4)!, asn: birdAS, holdTime: 9, connectRetrySeconds: 2))
        await speaker.originate(IPPrefix("192.168.77.0/26")!)
        await speaker.originate(IPPrefix("fd77::/64")!)

        await eventually(20, "Established") { await speaker.state(lab.theirV4) == .established }
        await eventually(10, "BIRD's routes in our Loc-RIB") {
            let a = await speaker.has("172.30.1.0/24", via: lab.theirV4)
            let b = await speaker.has("fd30:1::/64", via: lab.theirV6)
            return a && b
        }
        await eventually(10, "our routes in BIRD") {
            let r = self.birdRoutes(lab)
            return r.contains("192.168.77.0/26") && r.contains("fd77::/64")
        }
        XCTAssertTrue(birdRoutes(lab).contains(lab.ourV4), "next hop is our session address:\n\(birdRoutes(lab))")

        // Withdrawals both ways.
        await speaker.withdraw(IPPrefix("192.168.77.0/26")!)
        await eventually(10, "withdrawal reaches BIRD") { !self.birdRoutes(lab).contains("192.168.77.0/26") }
        try lab.inTheirs("/usr/sbin/birdc", "-s", lab.dir + "/bird.ctl", "disable", "s4")
        await eventually(10, "BIRD's withdrawal reaches us") { !(await speaker.has("172.30.1.0/24")) }
        let v6Still = await speaker.has("fd30:1::/64")
        XCTAssertTrue(v6Still)
        let status = await speaker.status().first!
        XCTAssertEqual(status.prefixesReceived, 1)
        XCTAssertEqual(status.prefixesAdvertised, 1)

        // RFC 8203 shutdown communication shows up in BIRD.
        await speaker.shutdown(communication: "maintenance window")
        await eventually(10, "BIRD saw the shutdown communication") {
            ((try? String(contentsOfFile: lab.dir + "/bird.log", encoding: .utf8)) ?? "").contains("\"maintenance window\"")
        }
    }

    func testEBGPExchangeIPv4AndIPv6() async throws {
        try await exchange(ourAS: 64512, birdAS: 65002)
    }

    func testIBGPExchangeIPv4AndIPv6() async throws {
        try await exchange(ourAS: 64512, birdAS: 64512)
    }

    func testMD5PasswordMatchAndMismatch() async throws {
        let lab = try BGPLab()
        defer { lab.tearDown() }
        _ = try startBird(lab, BirdOptions(password: "s3cret-bird"))
        let speaker = BGPSpeaker(config: lab.speakerConfig())
        try await speaker.start()
        let peer = BGPPeerConfig(address: IPAddress(lab.theirV4)!, asn: 65002, holdTime: 9, connectRetrySeconds: 2,
                                 password: "wrong")
        try await speaker.addPeer(peer)
        try await Task.sleep(nanoseconds: 6_000_000_000)
        let mismatched = await speaker.state(lab.theirV4)
        XCTAssertNotEqual(mismatched, .established, "a wrong MD5 password must not get a session")
        var right = peer
        right.password = "s3cret-bird"
        try await speaker.addPeer(right)
        await eventually(20, "Established with the right password") { await speaker.state(lab.theirV4) == .established }
        await eventually(10, "routes over the MD5 session") { await speaker.has("172.30.1.0/24") }
        await speaker.shutdown()
    }

    func testHoldTimerExpiryWhenBirdIsFrozen() async throws {
        let lab = try BGPLab()
        defer { lab.tearDown() }
        let bird = try startBird(lab, BirdOptions(holdTime: 3, gracefulRestart: false))
        let speaker = BGPSpeaker(config: lab.speakerConfig())
        try await speaker.start()
        try await speaker.addPeer(BGPPeerConfig(address: IPAddress(lab.theirV4)!, asn: 65002, holdTime: 3, connectRetrySeconds: 2))
        await eventually(20, "Established") { await speaker.state(lab.theirV4) == .established }
        await eventually(10, "BIRD's route") { await speaker.has("172.30.1.0/24") }
        kill(bird.processIdentifier, SIGSTOP)
        defer { kill(bird.processIdentifier, SIGCONT) }
        await eventually(8, "hold timer expiry") {
            let s = await speaker.status().first
            return s?.state != .established && s?.lastError == "hold timer expired"
        }
        let kept = await speaker.has("172.30.1.0/24")
        XCTAssertFalse(kept, "routes of a dead peer without graceful restart are removed")
        await speaker.shutdown()
    }

    /// RFC 4724 receiving side: BIRD dies and comes back; its routes stay (stale) meanwhile and
    /// are fresh again after its End-of-RIB.
    func testGracefulRestartKeepsRoutesAcrossBirdRestart() async throws {
        let lab = try BGPLab()
        defer { lab.tearDown() }
        let bird = try startBird(lab, BirdOptions())
        let speaker = BGPSpeaker(config: lab.speakerConfig())
        try await speaker.start()
        try await speaker.addPeer(BGPPeerConfig(address: IPAddress(lab.theirV4)!, asn: 65002, holdTime: 9, connectRetrySeconds: 2))
        await eventually(20, "Established") { await speaker.state(lab.theirV4) == .established }
        await eventually(10, "BIRD's route") { await speaker.has("172.30.1.0/24") }
        kill(bird.processIdentifier, SIGKILL)
        await eventually(10, "session down, route kept as stale") {
            let down = await speaker.state(lab.theirV4) != .established
            let stale = await speaker.locRIB()[IPPrefix("172.30.1.0/24")!]?.best.stale == true
            return down && stale
        }
        _ = try startBird(lab, BirdOptions())
        await eventually(20, "re-established") { await speaker.state(lab.theirV4) == .established }
        await eventually(10, "route fresh again") {
            await speaker.locRIB()[IPPrefix("172.30.1.0/24")!]?.best.stale == false
        }
        await speaker.shutdown()
    }

    /// RFC 4724 restarting side: we stop without a NOTIFICATION and come back with the R bit;
    /// BIRD keeps our route meanwhile.
    func testOurGracefulRestartKeepsRoutesInBird() async throws {
        let lab = try BGPLab()
        defer { lab.tearDown() }
        _ = try startBird(lab, BirdOptions())
        let peer = BGPPeerConfig(address: IPAddress(lab.theirV4)!, asn: 65002, holdTime: 9, connectRetrySeconds: 2)
        let first = BGPSpeaker(config: lab.speakerConfig())
        try await first.start()
        try await first.addPeer(peer)
        await first.originate(IPPrefix("192.168.77.0/26")!)
        await eventually(20, "our route in BIRD") { self.birdRoutes(lab).contains("192.168.77.0/26") }
        await first.stopForRestart()
        try await Task.sleep(nanoseconds: 1_500_000_000)
        XCTAssertTrue(birdRoutes(lab).contains("192.168.77.0/26"), "BIRD keeps our route while we restart")
        let protocolState = (try? lab.inTheirs("/usr/sbin/birdc", "-s", lab.dir + "/bird.ctl", "show", "protocols", "all", "ours")) ?? ""
        XCTAssertTrue(protocolState.contains("Neighbor graceful restart active"), protocolState)
        var config = lab.speakerConfig()
        config.restarting = true
        let second = BGPSpeaker(config: config)
        try await second.start()
        await second.originate(IPPrefix("192.168.77.0/26")!)
        try await second.addPeer(peer)
        await eventually(20, "re-established") { await second.state(lab.theirV4) == .established }
        try await Task.sleep(nanoseconds: 1_000_000_000)
        XCTAssertTrue(birdRoutes(lab).contains("192.168.77.0/26"), "and still has it after our End-of-RIB")
        await second.shutdown()
    }
}
