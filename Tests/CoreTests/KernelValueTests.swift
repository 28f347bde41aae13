@testable import Core
import XCTest

/// The pure parts of the netlink layer: addresses, prefixes, MACs, names, sysctl keys.
final class KernelValueTests: XCTestCase {
    func testPrefixParsing() {
        XCTAssertEqual(InetPrefix("10.65.0.5/32")?.description, "10.65.0.5/32")
        XCTAssertEqual(InetPrefix("10.65.0.5")?.length, 32)
        XCTAssertEqual(InetPrefix("fd00::1")?.length, 128)
        XCTAssertEqual(InetPrefix("FD00:0:0::0/48")?.description, "fd00::/48")
        XCTAssertEqual(InetPrefix("10.1.2.3/8")?.network.description, "10.0.0.0/8")
        XCTAssertEqual(InetPrefix("2001:db8:ffff::/33")?.network.description, "2001:db8:8000::/33")
        XCTAssertEqual(InetPrefix("0.0.0.0/0"), .defaultRoute(.ipv4))
        XCTAssertEqual(InetPrefix.defaultRoute(.ipv6).description, "::/0")
        for bad in ["", "/", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0/8", "fd00::/129",
                    "10.0.0.0/8/8", "10.0.0.0/ 8", "256.0.0.1", "fd00::1%eth0", "1.2.3.4/٣"] {
            XCTAssertNil(InetPrefix(bad), bad)
        }
        XCTAssertTrue(InetPrefix("10.0.0.0/8")!.contains(InetAddress("10.200.1.1")!))
        XCTAssertFalse(InetPrefix("10.0.0.0/8")!.contains(InetAddress("11.0.0.1")!))
        XCTAssertFalse(InetPrefix("::/0")!.contains(InetAddress("10.0.0.1")!))
        XCTAssertTrue(InetPrefix("10.0.0.1/32")!.isHost)
    }

    func testAddresses() {
        XCTAssertEqual(InetAddress("169.254.1.1")?.bytes, [169, 254, 1, 1])
        XCTAssertEqual(InetAddress("::ffff:1.2.3.4")?.family, .ipv6)
        XCTAssertNil(InetAddress(bytes: [1, 2, 3]))
        XCTAssertEqual(InetAddress(bytes: [Int](0..<16).map(UInt8.init))?.description, "1:203:405:607:809:a0b:c0d:e0f")
        XCTAssertTrue(InetAddress("9.255.255.255")! < InetAddress("10.0.0.0")!)
        XCTAssertTrue(InetAddress("255.255.255.255")! < InetAddress("::")!)
        XCTAssertEqual(InetAddress("10.1.2.3")!.masked(to: 12).description, "10.0.0.0")
    }

    func testMACAddresses() {
        XCTAssertEqual(MACAddress("EE:EE:EE:EE:EE:EE"), .calicoHostVeth)
        XCTAssertEqual(MACAddress("02-00-0a-0b-0c-0d")?.description, "02:00:0a:0b:0c:0d")
        for bad in ["", "ee:ee:ee:ee:ee", "ee:ee:ee:ee:ee:ee:ee", "e:ee:ee:ee:ee:ee", "gg:ee:ee:ee:ee:ee", "ee:ee:ee:ee:ee:+e"] {
            XCTAssertNil(MACAddress(bad), bad)
        }
    }

    func testInterfaceNames() {
        XCTAssertTrue(Link.isValidName("cali12345678901"))
        XCTAssertTrue(Link.isValidName("eth0.100"))
        for bad in ["", "cali123456789012", ".", "..", "a/b", "a b", "a:b", "tab\t"] {
            XCTAssertFalse(Link.isValidName(bad), bad)
        }
    }

    func testSysctlPaths() {
        XCTAssertEqual(SysctlKey.ipv4Conf("cali1", "proxy_arp")?.path, "/proc/sys/net/ipv4/conf/cali1/proxy_arp")
        XCTAssertEqual(SysctlKey.ipv4Neigh("cali1", "proxy_delay")?.path, "/proc/sys/net/ipv4/neigh/cali1/proxy_delay")
        XCTAssertEqual(SysctlKey.ipv6Conf("all", "forwarding")?.description, "net.ipv6.conf.all.forwarding")
        // An interface name with a dot stays one path component; sysctl(8) then wants slashes.
        let vlan = SysctlKey.ipv4Conf("eth0.100", "rp_filter")
        XCTAssertEqual(vlan?.path, "/proc/sys/net/ipv4/conf/eth0.100/rp_filter")
        XCTAssertEqual(vlan?.description, "net/ipv4/conf/eth0.100/rp_filter")
        XCTAssertEqual(SysctlKey(dotted: "net.ipv4.ip_forward")?.path, "/proc/sys/net/ipv4/ip_forward")
        for bad in [["net", ".."], ["net", ""], [], ["net", "a/b"]] { XCTAssertNil(SysctlKey(bad), "\(bad)") }
        XCTAssertNil(SysctlKey.ipv4Conf("..", "x"))
    }

    func testCalicoHostVethSysctlSet() {
        let v4 = Sysctl.calicoHostVeth("cali0").map(\.description)
        XCTAssertEqual(v4, ["net.ipv4.conf.cali0.route_localnet=1", "net.ipv4.conf.cali0.proxy_arp=1",
                            "net.ipv4.neigh.cali0.proxy_delay=0", "net.ipv4.conf.cali0.forwarding=1"])
        let v6 = Sysctl.calicoHostVeth("cali0", ipv4: false, ipv6: true).map(\.description)
        XCTAssertEqual(v6, ["net.ipv6.conf.cali0.accept_ra=0", "net.ipv6.conf.cali0.proxy_ndp=1",
                            "net.ipv6.conf.cali0.forwarding=1", "net.ipv6.conf.cali0.accept_dad=0"])
        XCTAssertEqual(Sysctl.calicoHostVeth("../../etc"), [])
    }

    func testRouteValuesAndConstants() {
        let r = KernelRoute(destination: InetPrefix("10.65.1.7/26")!, proto: .calicoBGP)
        XCTAssertEqual(r.destination.description, "10.65.1.0/26")
        XCTAssertEqual(r.table, RouteTable.main)
        XCTAssertEqual(RouteProtocol.calicoBGP.rawValue, 80)
        XCTAssertEqual(RouteProtocol.bird.rawValue, 12)
        XCTAssertNotEqual(RouteProtocol.calicoFelix, RouteProtocol.calicoBGP)
        let link = KernelRoute.onLink(InetPrefix("10.65.0.5/32")!, linkIndex: 7, proto: .calicoFelix)
        XCTAssertEqual(link.scope, .link)
        XCTAssertEqual(link.nextHops, [NextHop(linkIndex: 7)])
        XCTAssertEqual(KernelRoute.blackhole(InetPrefix("10.0.0.0/26")!, proto: .calicoBGP).type, .blackhole)
    }

    func testErrorsSayWhatFailedAndWhy() {
        let e = KernelError.netlink(-6, "add route 10.0.0.0/24 table 254")
        XCTAssertTrue(e.isAlreadyExists)
        XCTAssertTrue(e.description.hasPrefix("add route 10.0.0.0/24 table 254: "))
        XCTAssertTrue(KernelError.system("open x", errno: EPERM).description.contains("CAP_NET_ADMIN"))
        XCTAssertTrue(KernelError.system("open x", errno: ENOENT).isNotFound)
        XCTAssertFalse(KernelError.invalid("x", "y").isNotFound)
    }
}
