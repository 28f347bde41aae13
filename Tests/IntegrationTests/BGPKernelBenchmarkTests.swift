import Core
import Foundation
import Routing
import XCTest

/// Convergence into the Loc-RIB and the kernel: gobgpd (namespace `theirs`) holds N IPv4 /24s,
/// injected from an MRT table dump; a receiver in `ours` peers with it and installs them into
/// the kernel, first our speaker with the BGP role's kernel programmer, then BIRD 2 with its
/// kernel protocol. Prints the time from the session's establishment to all N in the RIB and to all N in the
/// kernel, the memory per route and the ratios. N from BGP_BENCH_PREFIXES (default 20,000;
/// bench/bgp-convergence.sh runs 100,000 and 1,000,000).
final class BGPKernelBenchmarkTests: XCTestCase {
    var count: Int { ProcessInfo.processInfo.environment["BGP_BENCH_PREFIXES"].flatMap(Int.init) ?? 20_000 }

    struct Result {
        /// Routes received (the requested number and the padding gobgpd kept).
        var n: Int
        var rib: Double
        var kernel: Double
        /// Peak resident memory growth while converging.
        var kib: Int
    }

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw DevServerError("needs root (network namespaces)") }
    }

    static func status(_ pid: Int32, _ field: String) -> Int {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    /// An MRT TABLE_DUMP_V2 file (RFC 6396): a peer index table, then one RIB_IPV4_UNICAST
    /// record per prefix with ORIGIN, a one-AS AS_PATH and NEXT_HOP.
    static func mrtDump(prefixes n: Int, nextHop: IPAddress, peerAS: UInt32) -> Data {
        var out = Data()
        out.reserveCapacity(n * 48)
        func u16(_ v: Int, _ d: inout Data) { d.append(UInt8(v >> 8 & 0xFF)); d.append(UInt8(v & 0xFF)) }
        func u32(_ v: UInt32, _ d: inout Data) { for s in [24, 16, 8, 0] { d.append(UInt8(v >> UInt32(s) & 0xFF)) } }
        func record(_ subtype: Int, _ body: Data) {
            u32(0, &out)
            u16(13, &out) // TABLE_DUMP_V2
            u16(subtype, &out)
            u32(UInt32(body.count), &out)
            out.append(body)
        }
        guard case .v4(let hop) = nextHop else { return out }
        var index = Data()
        u32(hop, &index)        // collector BGP ID
        u16(0, &index)          // no view name
        u16(1, &index)          // one peer
        index.append(0x02)      // IPv4 address, 4-octet AS
        u32(hop, &index)
        u32(hop, &index)
        u32(peerAS, &index)
        record(1, index)
        var attrs = Data([0x40, 1, 1, 0])                       // ORIGIN IGP
        attrs.append(contentsOf: [0x40, 2, 6, 2, 1])            // AS_PATH: one AS_SEQUENCE of one AS
        u32(peerAS, &attrs)
        attrs.append(contentsOf: [0x40, 3, 4])                  // NEXT_HOP
        u32(hop, &attrs)
        for i in 0..<n {
            var rib = Data()
            u32(UInt32(i), &rib)
            let p = (UInt32(11 + i / 65536) << 24) + UInt32(i % 65536) << 8
            rib.append(24)
            rib.append(contentsOf: [UInt8(p >> 24), UInt8(p >> 16 & 0xFF), UInt8(p >> 8 & 0xFF)])
            u16(1, &rib)
            u16(0, &rib)        // peer index
            u32(0, &rib)        // originated time
            u16(attrs.count, &rib)
            rib.append(attrs)
            record(2, rib)
        }
        return out
    }

    /// gobgpd in `theirs` holding the N routes (and up to 2,048 more: `gobgp mrt inject` drops
    /// its last queue of paths, so a tail of padding prefixes in 12/8 follows the real ones);
    /// returns how many it holds, configured to peer with `ours`.
    func startFeeder(_ lab: BGPLab, n: Int) async throws -> Int {
        let conf = """
        [global.config]
          as = 65010
          router-id = "\(lab.theirV4)"
          port = 179
          local-address-list = ["\(lab.theirV4)"]
        [[neighbors]]
          [neighbors.config]
            neighbor-address = "\(lab.ourV4)"
            peer-as = 64512
          [neighbors.timers.config]
            hold-time = 90
            connect-retry = 1
          [[neighbors.afi-safis]]
            [neighbors.afi-safis.config]
              afi-safi-name = "ipv4-unicast"
        """
        try conf.write(toFile: lab.dir + "/gobgpd.toml", atomically: true, encoding: .utf8)
        let port = 50100 + Int(getpid() % 1000)
        _ = try lab.launch("/usr/bin/gobgpd", ["-f", lab.dir + "/gobgpd.toml", "-t", "toml", "-p",
                                               "--api-hosts", "127.0.0.1:\(port)", "--pprof-disable", "-l", "warn"])
        try Self.mrtDump(prefixes: n + 2048, nextHop: IPAddress(lab.theirV4)!, peerAS: 65010)
            .write(to: URL(fileURLWithPath: lab.dir + "/feed.mrt"))
        let start = Date()
        await eventually(30, "gobgpd API up") { (try? lab.inTheirs("/usr/bin/gobgp", "-p", "\(port)", "global")) != nil }
        try lab.inTheirs("/usr/bin/gobgp", "-p", "\(port)", "mrt", "inject", "global", lab.dir + "/feed.mrt")
        func held() -> Int {
            let s = (try? lab.inTheirs("/usr/bin/gobgp", "-p", "\(port)", "global", "rib", "summary", "-a", "ipv4")) ?? ""
            return s.split(separator: "\n").first { $0.hasPrefix("Destination:") }
                .flatMap { Int($0.split(separator: " ")[1].filter(\.isNumber)) } ?? 0
        }
        var total = 0
        await eventually(600, "gobgpd holds at least \(n)") { total = held(); return total >= n }
        print(String(format: "BGP bench: gobgpd loaded %d prefixes in %.1fs", total, Date().timeIntervalSince(start)))
        return total
    }

    func runOurs(n requested: Int) async throws -> Result {
        let lab = try BGPLab()
        defer { lab.tearDown() }
        let n = try await startFeeder(lab, n: requested)
        var config = lab.speakerConfig()
        config.listenAddress = nil
        config.families = [.ipv4Unicast]
        config.gracefulRestartSeconds = 0
        let base = Self.status(getpid(), "VmRSS")
        let speaker = BGPSpeaker(config: config)
        let kernel = try KernelRouteProgrammer(namespace: NetNamespace(path: lab.namespacePath))
        let feeding = Task { for await batch in speaker.locRIBChanges { await kernel.apply(batch) } }
        try await speaker.addPeer(BGPPeerConfig(address: IPAddress(lab.theirV4)!, asn: 65010, connectRetrySeconds: 1))
        // Timed from the session's establishment, as for BIRD (whose start delay is not the point).
        while await speaker.state(lab.theirV4) != .established { try await Task.sleep(nanoseconds: 5_000_000) }
        let start = Date()
        var rib = 0.0
        await eventually(1800, "our Loc-RIB holds \(n)") {
            if await speaker.locRIBCount() >= n { rib = Date().timeIntervalSince(start); return true }
            return false
        }
        await eventually(1800, "our kernel routes number \(n)") { await kernel.installedCount() >= n }
        let kernelSeconds = Date().timeIntervalSince(start)
        let peak = Self.status(getpid(), "VmHWM") - base
        let listed = try sh("/usr/sbin/ip", "-n", lab.ours, "-4", "route", "show", "proto", "80").split(separator: "\n").count
        XCTAssertEqual(listed, n, "the kernel lists every route")
        feeding.cancel()
        await speaker.shutdown()
        return Result(n: n, rib: rib, kernel: kernelSeconds, kib: peak)
    }

    func runBird(n requested: Int) async throws -> Result {
        let lab = try BGPLab()
        defer { lab.tearDown() }
        let n = try await startFeeder(lab, n: requested)
        let conf = """
        router id \(lab.ourV4);
        protocol device {}
        protocol kernel k4 { ipv4 { import none; export all; }; }
        protocol bgp feeder { local \(lab.ourV4) as 64512; neighbor \(lab.theirV4) as 65010; ipv4 { import all; export none; }; }
        """
        try conf.write(toFile: lab.dir + "/bird.conf", atomically: true, encoding: .utf8)
        let ctl = lab.dir + "/bird.ctl"
        let bird = Process()
        bird.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        bird.arguments = ["netns", "exec", lab.ours, "/usr/sbin/bird", "-f", "-c", lab.dir + "/bird.conf", "-s", ctl]
        try bird.run()
        defer { kill(bird.processIdentifier, SIGKILL); bird.waitUntilExit() }
        // `ip netns exec` execs bird: same pid.
        try await Task.sleep(nanoseconds: 100_000_000)
        let base = Self.status(bird.processIdentifier, "VmRSS")
        func birdc(_ args: String...) -> String {
            (try? sh(["/usr/sbin/ip", "netns", "exec", lab.ours, "/usr/sbin/birdc", "-s", ctl] + args)) ?? ""
        }
        await eventually(60, "BIRD's session up") { birdc("show", "protocols", "feeder").contains("Established") }
        let start = Date()
        var rib = 0.0
        await eventually(1800, "BIRD's table holds \(n)") {
            if birdc("show", "route", "count").contains("\(n) of \(n) routes") { rib = Date().timeIntervalSince(start); return true }
            return false
        }
        await eventually(1800, "BIRD exported \(n) to the kernel") {
            let line = birdc("show", "protocols", "all", "k4").split(separator: "\n").first { $0.contains("Routes:") } ?? ""
            return line.contains("\(n) exported")
        }
        let kernelSeconds = Date().timeIntervalSince(start)
        let peak = Self.status(bird.processIdentifier, "VmHWM") - base
        let listed = try sh("/usr/sbin/ip", "-n", lab.ours, "-4", "route", "show", "proto", "bird").split(separator: "\n").count
        XCTAssertEqual(listed, n, "the kernel lists every BIRD route")
        return Result(n: n, rib: rib, kernel: kernelSeconds, kib: peak)
    }

    func testGoBGPFeedIntoRIBAndKernelOursVersusBird() async throws {
        let ours = try await runOurs(n: count)
        let bird = try await runBird(n: count)
        let n = ours.n
        let line = String(format: """
            BGP kernel convergence %d prefixes from gobgpd: ours RIB %.2fs kernel %.2fs, bird RIB %.2fs kernel %.2fs; \
            ratio ours/bird RIB %.2f kernel %.2f; peak memory growth ours %d KiB (%.0f B/route), bird %d KiB (%.0f B/route), ratio %.2f
            """, n, ours.rib, ours.kernel, bird.rib, bird.kernel, ours.rib / bird.rib, ours.kernel / bird.kernel,
                          ours.kib, Double(ours.kib) * 1024 / Double(n), bird.kib, Double(bird.kib) * 1024 / Double(n),
                          Double(ours.kib) / Double(max(1, bird.kib)))
        print(line)
        XCTAssertGreaterThan(bird.kernel, 0)
    }
}
