import Core
import Foundation
import XCTest
@testable import CNI

final class ResultTests: XCTestCase {
    /// What ADD returns for a dual-stack pod: host veth, pod interface, both addresses, the
    /// Calico default routes, and a 1.1-only route MTU.
    static let sample = CNIResult(
        interfaces: [
            .init(name: "calic440f455693", mac: "ee:ee:ee:ee:ee:ee", mtu: 1440),
            .init(name: "eth0", mac: "0a:58:0a:00:00:05", sandbox: "/var/run/netns/pod1", mtu: 1440),
        ],
        ips: [
            .init(address: CNIIPNetwork("10.0.0.5/32")!, gateway: CNIIPAddress("169.254.1.1"), interface: 1),
            .init(address: CNIIPNetwork("fd00:0:0::5/128")!, interface: 1),
        ],
        routes: [
            .init(dst: CNIIPNetwork("0.0.0.0/0")!, gw: CNIIPAddress("169.254.1.1"), mtu: 1400),
            .init(dst: CNIIPNetwork("::/0")!, gw: CNIIPAddress("FE80::1")),
        ],
        dns: .init(nameservers: ["10.96.0.10"], search: ["default.svc.cluster.local"]))

    static func expected(_ version: String) -> String {
        let v = version.hasPrefix("0.")
        let ext = version == "1.1.0"
        return """
        {"cniVersion":"\(version)",
         "interfaces":[{"name":"calic440f455693","mac":"ee:ee:ee:ee:ee:ee"\(ext ? #","mtu":1440"# : "")},
                       {"name":"eth0","mac":"0a:58:0a:00:00:05","sandbox":"/var/run/netns/pod1"\(ext ? #","mtu":1440"# : "")}],
         "ips":[{\(v ? #""version":"4","# : "")"address":"10.0.0.5/32","gateway":"169.254.1.1","interface":1},
                {\(v ? #""version":"6","# : "")"address":"fd00::5/128","interface":1}],
         "routes":[{"dst":"0.0.0.0/0","gw":"169.254.1.1"\(ext ? #","mtu":1400"# : "")},{"dst":"::/0","gw":"fe80::1"}],
         "dns":{"nameservers":["10.96.0.10"],"search":["default.svc.cluster.local"]}}
        """
    }

    func testEncodingPerVersion() {
        for v in SpecVersion.allCases {
            XCTAssertEqual(Self.sample.json(for: v), json(Self.expected(v.rawValue)), v.rawValue)
        }
    }

    func testBytesAreCompactAndSorted() {
        let r = CNIResult(ips: [.init(address: CNIIPNetwork("10.1.2.3/26")!)])
        XCTAssertEqual(String(decoding: r.encoded(for: .v0_4_0), as: UTF8.self),
                       #"{"cniVersion":"0.4.0","dns":{},"ips":[{"address":"10.1.2.3/26","version":"4"}]}"#)
        XCTAssertEqual(String(decoding: r.encoded(for: .v1_0_0), as: UTF8.self),
                       #"{"cniVersion":"1.0.0","dns":{},"ips":[{"address":"10.1.2.3/26"}]}"#)
    }

    // Decoding any version and encoding to any other is the spec's result conversion; the
    // 1.1-only fields survive only where the target version has them.
    func testConversionRoundTripsBetweenAllVersions() throws {
        for from in SpecVersion.allCases {
            let (decoded, version) = try CNIResult.decode(Self.sample.json(for: from), defaultVersion: .v1_0_0)
            XCTAssertEqual(version, from)
            for to in SpecVersion.allCases {
                XCTAssertEqual(decoded.json(for: to), json(Self.expected(to.rawValue)).stripped(unless: from.hasExtendedResultFields),
                               "\(from.rawValue) -> \(to.rawValue)")
            }
        }
    }

    func testPrevResultWithoutCniVersionUsesConfigVersion() throws {
        let prev = json(#"{"ips":[{"version":"4","address":"10.0.0.5/32"}]}"#)
        let (r, v) = try CNIResult.decode(prev, defaultVersion: .v0_3_1)
        XCTAssertEqual(v, .v0_3_1)
        XCTAssertEqual(r.ips.first?.address.description, "10.0.0.5/32")
        let config = try NetworkConfig.decode(Fixture.config(version: "0.4.0", extra: ["prevResult": prev]))
        XCTAssertEqual(config.prevResultVersion, .v0_4_0)
        XCTAssertEqual(config.prevResult?.json(for: .v1_0_0), json(#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.5/32"}],"dns":{}}"#))
    }

    func testIPAMOutputWithoutInterfaces() throws {
        let ipam = Data(#"{"cniVersion":"1.0.0","ips":[{"address":"10.244.1.7/24","gateway":"10.244.1.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{}}"#.utf8)
        let (r, _) = try CNIResult.decode(ipam, defaultVersion: .v1_0_0, path: "ipam result")
        XCTAssertTrue(r.interfaces.isEmpty)
        XCTAssertNil(r.ips[0].interface)
        XCTAssertEqual(r.ips[0].gateway?.description, "10.244.1.1")
        XCTAssertNil(r.routes[0].gw)
        XCTAssertTrue(r.dns.isEmpty)
    }

    func testBadPrevResultsAreCode6NamingTheField() {
        let cases: [(String, String)] = [
            (#"{"ips":[{"address":"10.0.0.5"}]}"#, "prevResult.ips[0].address"),
            (#"{"ips":[{"address":"10.0.0.300/32"}]}"#, "prevResult.ips[0].address"),
            (#"{"ips":[{"address":"10.0.0.5/33"}]}"#, "prevResult.ips[0].address"),
            (#"{"ips":[{"version":"6","address":"10.0.0.5/32"}]}"#, "prevResult.ips[0].version"),
            (#"{"ips":[{"address":"10.0.0.5/32","gateway":"fe80::1"}]}"#, "prevResult.ips[0].gateway"),
            (#"{"ips":[{"address":"10.0.0.5/32","interface":2}]}"#, "prevResult.ips[0].interface"),
            (#"{"interfaces":[{"mac":"x"}]}"#, "prevResult.interfaces[0].name"),
            (#"{"routes":[{"gw":"10.0.0.1"}]}"#, "prevResult.routes[0].dst"),
            (#"{"dns":{"nameservers":"10.0.0.10"}}"#, "prevResult.dns.nameservers"),
            (#"{"ips":{}}"#, "prevResult.ips"),
            (#"[]"#, "prevResult"),
        ]
        for (text, field) in cases {
            assertCNIError(.decodeFailure, mentions: field) {
                try NetworkConfig.decode(Fixture.config(version: "0.4.0", extra: ["prevResult": json(text)]))
            }
        }
        assertCNIError(.incompatibleVersion, mentions: "prevResult.cniVersion") {
            try CNIResult.decode(json(#"{"cniVersion":"0.2.0"}"#), defaultVersion: .v1_0_0)
        }
    }

    func testAddressParsing() {
        XCTAssertEqual(CNIIPNetwork("2001:DB8::0001/64")?.description, "2001:db8::1/64")
        XCTAssertEqual(CNIIPNetwork("10.0.0.5/24")?.family, .v4)
        XCTAssertEqual(CNIIPNetwork.host(CNIIPAddress("fd00::5")!).description, "fd00::5/128")
        for bad in ["10.0.0.5", "10.0.0.5/", "10.0.0.5/-1", "10.0.0.5/+8", "10.0.0/8", "::1/129", "x/8", "1.2.3.4/8/9"] {
            XCTAssertNil(CNIIPNetwork(bad), bad)
        }
        XCTAssertNil(CNIIPAddress(""))
        XCTAssertNil(CNIIPAddress("10.0.0.1\u{0}junk"))
        XCTAssertNil(CNIIPAddress(bytes: [1, 2, 3]))
    }
}

private extension JSONValue {
    /// The expected output with the 1.1-only MTUs removed, for conversions from a version
    /// that never carried them.
    func stripped(unless keep: Bool) -> JSONValue {
        guard !keep, case .object(var o) = self else { return self }
        for key in ["interfaces", "routes"] {
            o[key] = o[key]?.arrayValue.map { .array($0.map { e in var e = e; e["mtu"] = nil; return e }) }
        }
        return .object(o)
    }
}
