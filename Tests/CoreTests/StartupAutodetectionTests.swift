import XCTest
@testable import Core

final class StartupAutodetectionTests: XCTestCase {
    private func p(_ s: String) -> InetPrefix { InetPrefix(s)! }

    private var host: [HostInterface] {
        [
            HostInterface(name: "lo", addresses: [p("127.0.0.1/8"), p("::1/128")]),
            HostInterface(name: "docker0", addresses: [p("172.17.0.1/16")]),
            HostInterface(name: "eth0", addresses: [p("fe80::1/64"), p("10.0.0.5/24"), p("2001:db8::5/64")]),
            HostInterface(name: "eth1", isUp: false, addresses: [p("10.9.0.5/24")]),
            HostInterface(name: "ens4", addresses: [p("169.254.3.3/16"), p("192.168.50.7/24")]),
            HostInterface(name: "cali1234567890a", addresses: [p("10.200.0.1/32")]),
        ]
    }

    private func choose(_ method: String, _ family: InetAddress.Family = .ipv4, source: String? = nil,
                        internalIPs: [String] = []) throws -> InetPrefix {
        try AddressAutodetection.choose(method: AutodetectionMethod.parse(method), family: family, interfaces: host,
                                        canReachSource: source.flatMap { InetAddress($0) }, internalIPs: internalIPs)
    }

    func testFirstFoundSkipsExcludedDownAndLinkLocal() throws {
        XCTAssertEqual(try choose("first-found"), p("10.0.0.5/24"))
        XCTAssertEqual(try choose(""), p("10.0.0.5/24"))
        XCTAssertEqual(try choose("first-found", .ipv6), p("2001:db8::5/64"))
    }

    func testInterfaceRegexes() throws {
        XCTAssertEqual(try choose("interface=ens.*"), p("192.168.50.7/24"))
        XCTAssertEqual(try choose("interface=nomatch,ens4"), p("192.168.50.7/24"))
        // A down interface is never chosen, even when named.
        XCTAssertThrowsError(try choose("interface=eth1")) { error in
            XCTAssertTrue("\(error)".contains("interface=eth1"), "\(error)")
            XCTAssertTrue("\(error)".contains("set IP"), "\(error)")
        }
    }

    func testSkipInterface() throws {
        XCTAssertEqual(try choose("skip-interface=eth.*"), p("172.17.0.1/16"))
        XCTAssertEqual(try choose("skip-interface=eth.*,docker.*"), p("192.168.50.7/24"))
    }

    func testCIDR() throws {
        XCTAssertEqual(try choose("cidr=192.168.0.0/16"), p("192.168.50.7/24"))
        XCTAssertEqual(try choose("cidr=172.30.0.0/16, 10.0.0.0/8"), p("10.0.0.5/24"))
        XCTAssertEqual(try choose("cidr=2001:db8::/32", .ipv6), p("2001:db8::5/64"))
        XCTAssertThrowsError(try choose("cidr=172.30.0.0/16"))
    }

    func testCanReachUsesTheRouteSourceWithItsInterfacePrefix() throws {
        XCTAssertEqual(try choose("can-reach=8.8.8.8", source: "192.168.50.7"), p("192.168.50.7/24"))
        XCTAssertThrowsError(try choose("can-reach=8.8.8.8", source: nil)) { error in
            XCTAssertTrue("\(error)".contains("no IPv4 route to 8.8.8.8"), "\(error)")
        }
    }

    func testKubernetesInternalIP() throws {
        XCTAssertEqual(try choose("kubernetes-internal-ip", internalIPs: ["2001:db8::5", "10.0.0.5"]), p("10.0.0.5/24"))
        XCTAssertEqual(try choose("kubernetes-internal-ip", .ipv6, internalIPs: ["2001:db8::5", "10.0.0.5"]), p("2001:db8::5/64"))
        // Not on this host (behind NAT): the host prefix.
        XCTAssertEqual(try choose("kubernetes-internal-ip", internalIPs: ["203.0.113.9"]), p("203.0.113.9/32"))
        XCTAssertThrowsError(try choose("kubernetes-internal-ip", internalIPs: []))
    }

    func testMethodParsingErrorsNameTheVariable() {
        for bad in ["bogus", "interface=", "interface=([", "cidr=10.0.0.1", "cidr=nonsense", "can-reach"] {
            XCTAssertThrowsError(try AutodetectionMethod.parse(bad)) { error in
                XCTAssertTrue("\(error)".hasPrefix("IP_AUTODETECTION_METHOD="), "\(bad): \(error)")
            }
        }
        XCTAssertEqual(try AutodetectionMethod.parse("can-reach=www.example.com"), .canReach("www.example.com"))
        XCTAssertEqual(try AutodetectionMethod.parse("cidr=10.1.2.3/8"), .cidr([p("10.0.0.0/8")]))
    }

    func testUsableAddresses() {
        for bad in ["127.0.0.1", "169.254.1.1", "0.0.0.0", "224.0.0.5", "::1", "::", "fe80::1", "ff02::1"] {
            XCTAssertFalse(AddressAutodetection.isUsable(InetAddress(bad)!), bad)
        }
        for good in ["10.0.0.1", "192.168.1.1", "2001:db8::1", "fd00::1"] {
            XCTAssertTrue(AddressAutodetection.isUsable(InetAddress(good)!), good)
        }
    }

    func testRouteLookupThroughTheKernel() {
        // Loopback always has a route: the source towards 127.0.0.1 is 127.0.0.1.
        XCTAssertEqual(HostNetworkProbe.sourceAddress(towards: "127.0.0.1", family: .ipv4), InetAddress("127.0.0.1"))
        XCTAssertNil(HostNetworkProbe.sourceAddress(towards: "not an address.invalid", family: .ipv4))
    }
}
