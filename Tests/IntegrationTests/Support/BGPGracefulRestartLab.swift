import Core
import Foundation
import Routing
import XCTest

/// A peer daemon in `BGPLab`'s `theirs` namespace that can be killed abruptly and started again
/// in graceful-restart mode, announcing a given set of prefixes each time. Subclasses say how
/// to start it and how to read its view of the session.
class RestartablePeerDaemon {
    let lab: BGPLab
    let asn: UInt32
    let ourAS: UInt32
    /// The restart time the daemon advertises in its graceful restart capability.
    let restartTime: Int
    var process: Process?
    var name: String { "daemon" }
    /// Sets the R bit on a fresh start too (FRR does for its restart time after starting).
    var restartBitOnFreshStart: Bool { false }

    init(_ lab: BGPLab, asn: UInt32, ourAS: UInt32 = 64512, restartTime: Int = 120) {
        self.lab = lab
        self.asn = asn
        self.ourAS = ourAS
        self.restartTime = restartTime
    }

    /// Starts the daemon announcing `v4` (next hop its IPv4 address) and `v6` (its IPv6 address);
    /// `restarting` starts it as a restarting speaker (R and F bits set).
    func start(v4: [String], v6: [String], restarting: Bool) throws {
        fatalError("\(type(of: self)) must override start")
    }

    /// The daemon's own account of the session, and whether it says graceful restart was
    /// negotiated (both sides advertised it).
    func gracefulRestartView() -> (text: String, negotiated: Bool) {
        fatalError("\(type(of: self)) must override gracefulRestartView")
    }

    /// SIGKILL: no NOTIFICATION, the kernel closes its TCP connections.
    func kill() {
        guard let p = process, p.isRunning else { return }
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }
}

/// Our kernel's routes of protocol 80 in `ours`, read through netlink (fast enough to poll).
final class OurKernelRoutes {
    private let netlink: Netlink

    init(_ lab: BGPLab) throws {
        netlink = try Netlink(in: NetNamespace(path: lab.namespacePath))
    }

    /// Destination to gateway ("blackhole" for blackholes, "dev" for gateway-less routes).
    func read() -> [String: String] {
        guard let routes = try? netlink.routes(family: nil, table: RouteTable.main, proto: .calicoBGP) else { return [:] }
        var out: [String: String] = [:]
        for r in routes {
            out[r.destination.description] = r.type == .blackhole ? "blackhole"
                : r.nextHops.first?.gateway.map { $0.description } ?? "dev"
        }
        return out
    }
}

/// One observation while a peer restarts: our kernel, then our view of the session.
struct RestartSample {
    var seconds: Double
    var kernel: [String: String]
    var state: SessionState?
    var graceful: GracefulRestartStatus?
}

/// Samples the kernel and the speaker every `intervalMs` until `done` holds for a sample or
/// `timeout` passes; returns every sample (the last one is the first that satisfied `done`).
/// Sample times count from `start`.
func sampleWhileRestarting(_ speaker: BGPSpeaker, peer: IPAddress, kernel: OurKernelRoutes, since start: Date,
                           timeout: Double, intervalMs: UInt64 = 50, done: (RestartSample) -> Bool) async -> [RestartSample] {
    let deadline = Date().addingTimeInterval(timeout)
    var samples: [RestartSample] = []
    while Date() < deadline {
        let k = kernel.read()
        let state = await speaker.state(peer.description)
        let gr = await speaker.gracefulRestartStatus(peer)
        let sample = RestartSample(seconds: Date().timeIntervalSince(start), kernel: k, state: state, graceful: gr)
        samples.append(sample)
        if done(sample) { return samples }
        try? await Task.sleep(nanoseconds: intervalMs * 1_000_000)
    }
    return samples
}

/// The samples in which `prefix` was not in the kernel, as "t=1.23s state=Idle" lines.
func gaps(of prefix: String, in samples: [RestartSample]) -> [String] {
    samples.filter { $0.kernel[prefix] == nil }.map {
        String(format: "t=%.2fs state=%@", $0.seconds, $0.state?.rawValue ?? "none")
    }
}

/// BIRD 2 as a restartable peer: `graceful restart on` with a configurable restart time;
/// restarting is `bird -R` (graceful recovery: R bit, F bit for each family).
final class BirdRestartablePeer: RestartablePeerDaemon {
    override var name: String { "bird" }
    var control: String { lab.dir + "/bird.ctl" }

    init(_ lab: BGPLab, restartTime: Int = 120) {
        super.init(lab, asn: 65002, restartTime: restartTime)
    }

    func config(v4: [String], v6: [String]) -> String {
        """
        router id \(lab.theirV4);
        log "\(lab.dir)/bird.log" all;
        graceful restart wait 20;
        protocol device {}
        protocol static s4 { ipv4; \(v4.map { "route \($0) blackhole;" }.joined(separator: " ")) }
        protocol static s6 { ipv6; \(v6.map { "route \($0) blackhole;" }.joined(separator: " ")) }
        protocol bgp ours {
          local \(lab.theirV4) as \(asn);
          neighbor \(lab.ourV4) as \(ourAS);
          hold time 9;
          connect delay time 1;
          connect retry time 1;
          error wait time 1, 2;
          graceful restart on;
          graceful restart time \(restartTime);
          ipv4 { import all; export all; next hop self; };
          ipv6 { import all; export all; next hop address \(lab.theirV6); };
        }
        """
    }

    override func start(v4: [String], v6: [String], restarting: Bool) throws {
        let conf = lab.dir + "/bird.conf"
        try config(v4: v4, v6: v6).write(toFile: conf, atomically: true, encoding: .utf8)
        process = try lab.launch("/usr/sbin/bird", (restarting ? ["-R"] : []) + ["-f", "-c", conf, "-s", control, "-P", lab.dir + "/bird.pid"])
    }

    /// `birdc show protocols all ours`.
    func protocolState() -> String {
        (try? lab.inTheirs("/usr/sbin/birdc", "-s", control, "show", "protocols", "all", "ours")) ?? ""
    }

    override func gracefulRestartView() -> (text: String, negotiated: Bool) {
        let text = protocolState()
        let neighbor = text.components(separatedBy: "Neighbor capabilities").dropFirst().first ?? ""
        return (text, neighbor.contains("Graceful restart"))
    }
}

/// GoBGP as a restartable peer: graceful restart with per-family mp-graceful-restart; restarting
/// is `gobgpd -r` (R bit and F bits). Routes go in through its API while the neighbour is
/// administratively down, then the neighbour is enabled, so the session never sees a table
/// without them.
final class GoBGPRestartablePeer: RestartablePeerDaemon {
    override var name: String { "gobgpd" }

    init(_ lab: BGPLab, restartTime: Int = 120) {
        super.init(lab, asn: 65003, restartTime: restartTime)
    }

    func config() -> String {
        goBGPConfig(lab, asn: asn, ourAS: ourAS, neighbor: """
            admin-down = true
          [neighbors.graceful-restart.config]
            enabled = true
            restart-time = \(restartTime)
        """, family: """
            [neighbors.afi-safis.mp-graceful-restart.config]
              enabled = true
        """)
    }

    func gobgp(_ args: [String]) throws -> String {
        try sh(["/usr/sbin/ip", "netns", "exec", lab.theirs, "/usr/bin/gobgp"] + args)
    }

    override func start(v4: [String], v6: [String], restarting: Bool) throws {
        let conf = lab.dir + "/gobgpd.toml"
        try config().write(toFile: conf, atomically: true, encoding: .utf8)
        process = try lab.launch("/usr/bin/gobgpd", ["-f", conf, "-t", "toml", "-p", "--api-hosts", "127.0.0.1:50051",
                                                     "--pprof-disable"] + (restarting ? ["-r"] : []))
        // The API comes up a moment after the process.
        let deadline = Date().addingTimeInterval(10)
        while (try? gobgp(["global"])) == nil {
            guard Date() < deadline else { throw CommandError(command: "gobgp global", output: "gobgpd's API did not come up") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        for p in v4 { _ = try gobgp(["global", "rib", "add", p, "-a", "ipv4", "nexthop", lab.theirV4]) }
        for p in v6 { _ = try gobgp(["global", "rib", "add", p, "-a", "ipv6", "nexthop", lab.theirV6]) }
        _ = try gobgp(["neighbor", lab.ourV4, "enable"])
    }

    override func gracefulRestartView() -> (text: String, negotiated: Bool) {
        let text = (try? gobgp(["neighbor", lab.ourV4])) ?? ""
        let line = text.split(separator: "\n").first { $0.contains("graceful-restart") } ?? ""
        return (text, line.contains("advertised and received"))
    }
}

/// A gobgpd TOML configuration for one neighbour (`lab`'s `ours`) with IPv4 and IPv6 unicast;
/// `neighbor` lines go under the neighbour's config, `family` lines into each family.
func goBGPConfig(_ lab: BGPLab, asn: UInt32, ourAS: UInt32, neighbor: String = "", family: String = "") -> String {
    let families = ["ipv4-unicast", "ipv6-unicast"].map {
        """
          [[neighbors.afi-safis]]
            [neighbors.afi-safis.config]
              afi-safi-name = "\($0)"
        \(family)
        """
    }.joined(separator: "\n")
    return """
    [global.config]
      as = \(asn)
      router-id = "\(lab.theirV4)"
      port = 179
      local-address-list = ["\(lab.theirV4)", "\(lab.theirV6)"]
    [[neighbors]]
      [neighbors.config]
        neighbor-address = "\(lab.ourV4)"
        peer-as = \(ourAS)
    \(neighbor)
      [neighbors.timers.config]
        hold-time = 9
        keepalive-interval = 3
        connect-retry = 2
    \(families)
    """
}

/// FRR's bgpd (without zebra) as a restartable peer: `bgp graceful-restart` with
/// `preserve-fw-state` (F bits); a bgpd that has just started sets the R bit by itself.
/// IPv6 goes over the IPv4 session with bgpd's IPv6 address as next hop.
final class FRRRestartablePeer: RestartablePeerDaemon {
    static let bgpd = "/usr/lib/frr/bgpd"
    override var name: String { "frr bgpd" }
    override var restartBitOnFreshStart: Bool { true }

    init(_ lab: BGPLab, restartTime: Int = 120) {
        super.init(lab, asn: 65010, restartTime: restartTime)
    }

    func config(v4: [String], v6: [String]) -> String {
        let us = lab.ourV4
        return """
        frr defaults traditional
        hostname theirs
        log file \(lab.dir)/frr.log
        route-map v6-next-hop permit 10
         set ipv6 next-hop global \(lab.theirV6)
        exit
        router bgp \(asn)
         bgp router-id \(lab.theirV4)
         bgp graceful-restart
         bgp graceful-restart preserve-fw-state
         bgp graceful-restart restart-time \(restartTime)
         no bgp ebgp-requires-policy
         no bgp network import-check
         neighbor \(us) remote-as \(ourAS)
         neighbor \(us) timers 3 9
         neighbor \(us) timers connect 1
         address-family ipv4 unicast
        \(v4.map { "  network \($0)" }.joined(separator: "\n"))
         exit-address-family
         address-family ipv6 unicast
        \(v6.map { "  network \($0)" }.joined(separator: "\n"))
          neighbor \(us) activate
          neighbor \(us) route-map v6-next-hop out
         exit-address-family
        """
    }

    override func start(v4: [String], v6: [String], restarting: Bool) throws {
        let conf = lab.dir + "/bgpd.conf"
        try config(v4: v4, v6: v6).write(toFile: conf, atomically: true, encoding: .utf8)
        process = try lab.launch(Self.bgpd, ["-Z", "-S", "-f", conf, "-i", lab.dir + "/bgpd.pid", "--vty_socket", lab.dir])
    }

    override func gracefulRestartView() -> (text: String, negotiated: Bool) {
        let text = (try? sh(["/usr/sbin/ip", "netns", "exec", lab.theirs, "/usr/bin/vtysh", "--vty_socket", lab.dir, "-d", "bgpd",
                             "-c", "show bgp neighbors \(lab.ourV4)"])) ?? ""
        let line = text.split(separator: "\n").first { $0.contains("Graceful Restart Capability") } ?? ""
        return (text, line.contains("advertised and received"))
    }
}
