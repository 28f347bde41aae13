import Core
import Foundation
import Routing
import XCTest

/// Our speaker against FRR's bgpd (Debian frr, run without zebra) in network namespaces (see
/// `BGPLab`), with our Loc-RIB programmed into the kernel of `ours` as the BGP role does: eBGP
/// over IPv4 and IPv6 sessions with TCP MD5, routes both ways and in the kernel, a withdrawal
/// applied to the kernel, and a hold-timer expiry that removes the dead peer's kernel routes.
final class BGPInteropFRRTests: XCTestCase {
    static let bgpd = "/usr/lib/frr/bgpd"
    let password = "frr-md5-pw"

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw DevServerError("needs root (network namespaces)") }
        guard FileManager.default.isExecutableFile(atPath: Self.bgpd) else {
            throw DevServerError("FRR is not installed (scripts/test.sh installs the frr package)")
        }
    }

    func config(_ lab: BGPLab) -> String {
        """
        frr defaults traditional
        hostname theirs
        log file \(lab.dir)/frr.log
        router bgp 65010
         bgp router-id \(lab.theirV4)
         bgp graceful-restart-disable
         no bgp ebgp-requires-policy
         no bgp network import-check
         neighbor \(lab.ourV4) remote-as 64512
         neighbor \(lab.ourV4) password \(password)
         neighbor \(lab.ourV4) timers 1 3
         neighbor \(lab.ourV4) timers connect 1
         neighbor \(lab.ourV6) remote-as 64512
         neighbor \(lab.ourV6) password \(password)
         neighbor \(lab.ourV6) timers 1 3
         neighbor \(lab.ourV6) timers connect 1
         address-family ipv4 unicast
          network 10.30.0.0/24
          network 10.31.0.0/24
          no neighbor \(lab.ourV6) activate
         exit-address-family
         address-family ipv6 unicast
          network fd30::/64
          neighbor \(lab.ourV6) activate
         exit-address-family
        """
    }

    func vtysh(_ lab: BGPLab, _ commands: [String]) throws -> String {
        try sh(["/usr/sbin/ip", "netns", "exec", lab.theirs, "/usr/bin/vtysh", "--vty_socket", lab.dir, "-d", "bgpd"]
               + commands.flatMap { ["-c", $0] })
    }

    func frrHas(_ lab: BGPLab, _ prefix: String, family: String) -> Bool {
        ((try? vtysh(lab, ["show bgp \(family) unicast json"])) ?? "").contains("\"\(prefix)\"")
    }

    /// `ours`'s protocol-80 routes: destination to gateway.
    func kernelRoutes(_ lab: BGPLab) -> [String: String] {
        var routes: [String: String] = [:]
        for family in ["-4", "-6"] {
            guard let out = try? sh("/usr/sbin/ip", family, "-j", "-n", lab.ours, "route", "show", "proto", "80"),
                  let list = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] else { continue }
            for r in list {
                guard let dst = r["dst"] as? String else { continue }
                routes[dst] = (r["type"] as? String == "blackhole") ? "blackhole" : (r["gateway"] as? String ?? "?")
            }
        }
        return routes
    }

    func testEBGPWithFRRBothFamiliesMD5KernelRoutesWithdrawalAndHoldTimer() async throws {
        let lab = try BGPLab()
        defer { lab.tearDown() }
        try config(lab).write(toFile: lab.dir + "/bgpd.conf", atomically: true, encoding: .utf8)
        let frr = try lab.launch(Self.bgpd, ["-Z", "-S", "-f", lab.dir + "/bgpd.conf", "-i", lab.dir + "/bgpd.pid",
                                             "--vty_socket", lab.dir])
        defer { kill(frr.processIdentifier, SIGCONT) }

        var speakerConfig = lab.speakerConfig(gracefulRestart: 0)
        speakerConfig.localAddresses = [IPAddress(lab.ourV4)!, IPAddress(lab.ourV6)!]
        let speaker = BGPSpeaker(config: speakerConfig)
        try await speaker.start()
        let kernel = try KernelRouteProgrammer(namespace: NetNamespace(path: lab.namespacePath))
        let feeding = Task { for await batch in speaker.locRIBChanges { await kernel.apply(batch) } }
        defer { feeding.cancel() }
        // One family per session, as the BGP role configures Calico peers.
        var v4 = BGPPeerConfig(address: IPAddress(lab.theirV4)!, asn: 65010, holdTime: 3, connectRetrySeconds: 1, password: password)
        v4.families = [.ipv4Unicast]
        var v6 = BGPPeerConfig(address: IPAddress(lab.theirV6)!, asn: 65010, holdTime: 3, connectRetrySeconds: 1, password: password)
        v6.families = [.ipv6Unicast]
        try await speaker.addPeer(v4)
        try await speaker.addPeer(v6)
        await speaker.originate([IPPrefix("10.40.0.0/24")!, IPPrefix("fd40::/64")!])

        await eventually(30, "both sessions Established over MD5") {
            let a = await speaker.state(lab.theirV4), b = await speaker.state(lab.theirV6)
            return a == .established && b == .established
        }
        await eventually(15, "FRR's routes in our kernel with FRR's addresses as next hops") {
            let k = self.kernelRoutes(lab)
            return k["10.30.0.0/24"] == lab.theirV4 && k["10.31.0.0/24"] == lab.theirV4 && k["fd30::/64"] == lab.theirV6
                && k["10.40.0.0/24"] == "blackhole" && k["fd40::/64"] == "blackhole"
        }
        XCTAssertEqual(kernelRoutes(lab)["10.30.0.0/24"], lab.theirV4, "\(kernelRoutes(lab))")
        await eventually(15, "our routes in FRR") {
            self.frrHas(lab, "10.40.0.0/24", family: "ipv4") && self.frrHas(lab, "fd40::/64", family: "ipv6")
        }

        // FRR withdraws one prefix: it leaves our kernel, the other stays.
        _ = try vtysh(lab, ["configure terminal", "router bgp 65010", "address-family ipv4 unicast", "no network 10.31.0.0/24"])
        await eventually(15, "withdrawal applied to the kernel") {
            let k = self.kernelRoutes(lab)
            return k["10.31.0.0/24"] == nil && k["10.30.0.0/24"] == lab.theirV4
        }

        // FRR freezes: the hold timer (3 s) expires and its routes leave the kernel (no graceful restart).
        kill(frr.processIdentifier, SIGSTOP)
        await eventually(10, "hold timer expiry removes FRR's kernel routes") {
            let k = self.kernelRoutes(lab)
            return k["10.30.0.0/24"] == nil && k["fd30::/64"] == nil
        }
        let status = await speaker.status()
        XCTAssertTrue(status.contains { $0.lastError == "hold timer expired" }, "\(status)")
        XCTAssertEqual(kernelRoutes(lab)["10.40.0.0/24"], "blackhole", "our own blackholes stay")
        kill(frr.processIdentifier, SIGCONT)
        await speaker.shutdown()
    }
}
