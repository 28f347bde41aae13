import Foundation
import Routing
import XCTest

/// Convergence benchmark: one of our speakers (namespace `ours`) feeds N IPv4 /24s to a
/// receiver in `theirs`, first BIRD, then another of our speakers; prints the time until the
/// receiver holds all N and the ratio. N from BGP_BENCH_PREFIXES (default 20,000; bench/bgp-convergence.sh
/// runs 100,000 and 1,000,000).
final class BGPInteropBenchmarkTests: XCTestCase {
    var count: Int { ProcessInfo.processInfo.environment["BGP_BENCH_PREFIXES"].flatMap(Int.init) ?? 20_000 }

    func feed() -> [IPPrefix] {
        (0..<count).map { IPPrefix(address: .v4((11 << 24) + UInt32($0) << 8), length: 24)! }
    }

    static func rssKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    func injector(_ lab: BGPLab) async throws -> BGPSpeaker {
        var config = lab.speakerConfig()
        config.listenAddress = nil
        config.publishLocRIBChanges = false
        let speaker = BGPSpeaker(config: config)
        await speaker.originate(feed())
        try await speaker.addPeer(BGPPeerConfig(address: IPAddress(lab.theirV4)!, asn: 65010, holdTime: 90, connectRetrySeconds: 1))
        return speaker
    }

    func testConvergenceAgainstBird() async throws {
        let n = count
        let prefixes = feed()
        _ = prefixes
        // BIRD as the receiver.
        let birdSeconds: Double
        let birdRSS: Int
        do {
            let lab = try BGPLab()
            defer { lab.tearDown() }
            let conf = """
            router id \(lab.theirV4);
            protocol device {}
            protocol bgp ours { local \(lab.theirV4) as 65010; neighbor \(lab.ourV4) as 64512; ipv4 { import all; export none; }; }
            """
            try conf.write(toFile: lab.dir + "/bird.conf", atomically: true, encoding: .utf8)
            let bird = try lab.launch("/usr/sbin/bird", ["-f", "-c", lab.dir + "/bird.conf", "-s", lab.dir + "/bird.ctl"])
            try await Task.sleep(nanoseconds: 300_000_000)
            let rss0 = Self.rssKiB(bird.processIdentifier)
            let start = Date()
            let feeder = try await injector(lab)
            await eventually(600, "BIRD holds \(n) routes") {
                let out = (try? lab.inTheirs("/usr/sbin/birdc", "-s", lab.dir + "/bird.ctl", "show", "route", "count")) ?? ""
                return out.contains("\(n) of \(n) routes")
            }
            birdSeconds = Date().timeIntervalSince(start)
            birdRSS = Self.rssKiB(bird.processIdentifier) - rss0
            await feeder.shutdown()
        }
        // Our speaker as the receiver.
        let oursSeconds: Double
        let oursRSS: Int
        do {
            let lab = try BGPLab()
            defer { lab.tearDown() }
            var config = lab.speakerConfig(asn: 65010)
            config.networkNamespacePath = "/run/netns/\(lab.theirs)"
            config.routerID += 1
            config.publishLocRIBChanges = false
            let receiver = BGPSpeaker(config: config)
            try await receiver.start()
            try await receiver.addPeer(BGPPeerConfig(address: IPAddress(lab.ourV4)!, asn: 64512, passive: true))
            let rss0 = Self.rssKiB(getpid())
            let start = Date()
            let feeder = try await injector(lab)
            await eventually(600, "our receiver holds \(n) routes") { await receiver.locRIBCount() == n }
            oursSeconds = Date().timeIntervalSince(start)
            oursRSS = Self.rssKiB(getpid()) - rss0
            await feeder.shutdown()
            await receiver.shutdown()
        }
        let line = String(format: "BGP convergence %d prefixes: ours %.2fs, bird %.2fs, time ratio ours/bird %.2f; RSS growth ours %d KiB (sender and receiver in one process), bird %d KiB",
                          n, oursSeconds, birdSeconds, oursSeconds / birdSeconds, oursRSS, birdRSS)
        print(line)
        XCTAssertGreaterThan(birdSeconds, 0)
    }
}
