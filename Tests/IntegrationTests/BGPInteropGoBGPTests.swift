import Foundation
import Routing
import XCTest

/// Our speaker against GoBGP (`gobgpd`, Debian gobgpd) in network namespaces; see `BGPLab`.
final class BGPInteropGoBGPTests: XCTestCase {
    func gobgpConfig(_ lab: BGPLab, asn: UInt32, ourAS: UInt32) -> String {
        goBGPConfig(lab, asn: asn, ourAS: ourAS)
    }

    func gobgp(_ lab: BGPLab, _ args: String...) throws -> String {
        try sh(["/usr/sbin/ip", "netns", "exec", lab.theirs, "/usr/bin/gobgp"] + args)
    }

    func exchange(ourAS: UInt32, theirAS: UInt32) async throws {
        let lab = try BGPLab()
        defer { lab.tearDown() }
        let conf = lab.dir + "/gobgpd.toml"
        try gobgpConfig(lab, asn: theirAS, ourAS: ourAS).write(toFile: conf, atomically: true, encoding: .utf8)
        _ = try lab.launch("/usr/bin/gobgpd", ["-f", conf, "-t", "toml", "-p", "--api-hosts", "127.0.0.1:50051", "--pprof-disable"])
        let speaker = BGPSpeaker(config: lab.speakerConfig(asn: ourAS))
        try await speaker.start()
        try await speaker.addPeer(BGPPeerConfig(address: IPAddress(lab.theirV4)!, asn: theirAS, holdTime: 9, connectRetrySeconds: 2))
        await speaker.originate(IPPrefix("192.168.88.0/26")!)
        await speaker.originate(IPPrefix("fd88::/64")!)
        await eventually(20, "Established") { await speaker.state(lab.theirV4) == .established }

        _ = try? gobgp(lab, "global", "rib", "add", "172.31.5.0/24", "-a", "ipv4", "nexthop", lab.theirV4)
        _ = try? gobgp(lab, "global", "rib", "add", "fd31:5::/64", "-a", "ipv6", "nexthop", lab.theirV6)
        await eventually(10, "GoBGP's routes in our Loc-RIB") {
            let a = await speaker.has("172.31.5.0/24", via: lab.theirV4)
            let b = await speaker.has("fd31:5::/64", via: lab.theirV6)
            return a && b
        }
        await eventually(10, "our routes in GoBGP") {
            let v4 = (try? self.gobgp(lab, "global", "rib", "-a", "ipv4")) ?? ""
            let v6 = (try? self.gobgp(lab, "global", "rib", "-a", "ipv6")) ?? ""
            return v4.contains("192.168.88.0/26") && v6.contains("fd88::/64")
        }
        _ = try gobgp(lab, "global", "rib", "del", "172.31.5.0/24", "-a", "ipv4")
        await eventually(10, "GoBGP's withdrawal reaches us") { !(await speaker.has("172.31.5.0/24")) }
        await speaker.withdraw(IPPrefix("fd88::/64")!)
        await eventually(10, "our withdrawal reaches GoBGP") {
            !((try? self.gobgp(lab, "global", "rib", "-a", "ipv6")) ?? "fd88::/64").contains("fd88::/64")
        }
        await speaker.shutdown(communication: "gobgp test done")
    }

    func testEBGPExchangeWithGoBGP() async throws {
        try await exchange(ourAS: 64512, theirAS: 65003)
    }

    func testIBGPExchangeWithGoBGP() async throws {
        try await exchange(ourAS: 64512, theirAS: 64512)
    }
}
