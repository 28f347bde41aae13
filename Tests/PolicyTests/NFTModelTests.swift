import Core
import XCTest
@testable import Policy

final class NFTModelTests: XCTestCase {
    private func net(_ s: String) -> IPNet { IPNet(parsing: s)! }

    func testRuleTextIsNftSyntax() {
        let rule = NFTRule([.iifname("cali1"), .addrInSet(.source, ipv6: false, set: "s-a", negated: true),
                            .port(.tcp, .destination, .anyOf([443...443, 80...80, 8000...8080])),
                            .ctState([.related, .established])],
                           statements: [.counter, .orMark(0x10000)], verdict: .jump("cali-pi-x"))
        XCTAssertEqual(rule.body, "iifname \"cali1\" ip saddr != @s-a tcp dport { 80, 443, 8000-8080 } "
                       + "ct state established,related counter meta mark set meta mark | 0x10000 jump cali-pi-x")
        XCTAssertEqual(NFTRule([.addr(.destination, net("fd00::/64")), .icmp(ipv6: true, type: 128, code: 0)], verdict: .drop).body,
                       "ip6 daddr fd00::/64 icmpv6 type 128 icmpv6 code 0 drop")
        XCTAssertEqual(NFTRule([.mark(value: 0, mask: 0x20000, negated: true)], verdict: .vmapIifname("m")).body,
                       "meta mark & 0x20000 != 0x0 iifname vmap @m")
        // The reverse-path check, as nft writes it (and lists what we program: NFTablesRenderedTests).
        XCTAssertEqual(NFTRule([.iifnameInSet("wl"), .ipVersion(4), .sourceRouteMissing()], statements: [.counter], verdict: .drop).body,
                       "iifname @wl meta nfproto ipv4 fib saddr . iif oif missing counter drop")
        XCTAssertEqual(NFTRule([.sourceRouteMissing(negated: true)], verdict: .accept).body, "fib saddr . iif oif exists accept")
    }

    func testIdentityIsStableAndFollowsContent() {
        let a = NFTRule([.l4proto(6)], verdict: .accept)
        XCTAssertEqual(a.identity, NFTRule([.l4proto(6)], verdict: .accept).identity)
        XCTAssertNotEqual(a.identity, NFTRule([.l4proto(17)], verdict: .accept).identity)
        XCTAssertNotEqual(a.identity, NFTRule([.l4proto(6)], verdict: .accept, comment: "x").identity)
        // Anonymous port lists are canonical: order does not change identity.
        XCTAssertEqual(NFTRule([.port(.udp, .source, .anyOf([1...1, 2...2]))]).identity,
                       NFTRule([.port(.udp, .source, .anyOf([2...2, 1...1]))]).identity)
        XCTAssertEqual(a.identity.count, 16)
        XCTAssertEqual(NFTRuleIdentity.parse(stored: a.storedComment), a.identity)
        let long = NFTRule(comment: String(repeating: "é", count: 200))
        XCTAssertLessThanOrEqual(long.storedComment.utf8.count, 127)
        XCTAssertEqual(NFTRuleIdentity.parse(stored: long.storedComment), long.identity)
        XCTAssertNil(NFTRuleIdentity.parse(stored: "hand written rule"))
    }

    func testRulesetTextDeclaresSetsMapsAndChains() {
        var rs = NFTRuleset()
        rs.add(NFTSet(name: "p", type: .inetService, interval: true, elements: [.ports(1000...2000), .port(22)]))
        rs.add(NFTVerdictMap(name: "m", elements: ["cali2": .goto("cali-tw-cali2")]))
        rs.add(NFTChain(name: "cali-tw-cali2", rules: [NFTRule(verdict: .drop)]))
        rs.add(NFTChain(name: "fwd", base: NFTBaseChain(hook: .forward, priority: -10, policy: .drop), rules: []))
        let text = NFTText.render(rs)
        XCTAssertTrue(text.hasPrefix("table inet calico {\n\tset p {\n\t\ttype inet_service\n\t\tflags interval\n\t\telements = { 22, 1000-2000 }"), text)
        XCTAssertTrue(text.contains("elements = { \"cali2\" : goto cali-tw-cali2 }"), text)
        XCTAssertTrue(text.contains("type filter hook forward priority -10; policy drop;"), text)
        // Regular chains come first so jumps and maps name declared chains.
        XCTAssertLessThan(text.range(of: "chain cali-tw-cali2")!.lowerBound, text.range(of: "chain fwd")!.lowerBound)
        XCTAssertTrue(NFTText.render(rs, replacing: true).hasPrefix("table inet calico\ndelete table inet calico\n"))
    }

    func testIntervalElementsMergeAndOmitEndAtTop() {
        let set = NFTSet(name: "s", type: .ipv4Addr, interval: true,
                         elements: [.net(net("10.0.0.0/8")), .net(net("10.1.0.0/16")), .net(net("11.0.0.0/8")),
                                    .net(net("255.255.255.255")), .net(net("fd00::/8"))])
        XCTAssertEqual(NFTElementCodec.keyElements(set), [
            NFTKeyElement(key: [10, 0, 0, 0]), NFTKeyElement(key: [12, 0, 0, 0], intervalEnd: true),
            NFTKeyElement(key: [255, 255, 255, 255]),
        ])
        XCTAssertEqual(NFTElementCodec.invalidElements(set), [.net(net("fd00::/8"))])
        let ports = NFTSet(name: "p", type: .inetService, interval: true, elements: [.ports(80...90), .ports(85...100), .port(443)])
        XCTAssertEqual(NFTElementCodec.keyElements(ports), [
            NFTKeyElement(key: [0, 80]), NFTKeyElement(key: [0, 101], intervalEnd: true),
            NFTKeyElement(key: [1, 187]), NFTKeyElement(key: [1, 188], intervalEnd: true),
        ])
        let names = NFTSet(name: "n", type: .ifname, elements: [.ifname("cali123")])
        XCTAssertEqual(NFTElementCodec.keyElements(names).first?.key.count, 16)
        XCTAssertEqual(NFTElementCodec.ifname(fromKey: NFTElementCodec.ifnameKey("cali123")), "cali123")
    }

    /// Addresses and ports: the address, the port's two bytes, two zero bytes; 8 and 20 bytes,
    /// ordered as their bytes. Another family's address, a CIDR or a bare address is invalid.
    func testAddressAndPortKeys() {
        let v4 = NFTSet(name: "n4", type: .ipv4AddrService,
                        elements: [.addrPort(net("10.0.0.2"), 80), .addrPort(net("10.0.0.1"), 8080), .addrPort(net("fd00::1"), 80),
                                   .addrPort(net("10.0.0.0/24"), 80), .net(net("10.0.0.3"))])
        XCTAssertEqual(NFTElementCodec.keyElements(v4).sorted(), [
            NFTKeyElement(key: [10, 0, 0, 1, 0x1f, 0x90, 0, 0]), NFTKeyElement(key: [10, 0, 0, 2, 0, 80, 0, 0]),
        ])
        XCTAssertEqual(NFTElementCodec.invalidElements(v4), [.net(net("10.0.0.3")), .addrPort(net("10.0.0.0/24"), 80), .addrPort(net("fd00::1"), 80)])
        let v6 = NFTSet(name: "n6", type: .ipv6AddrService, elements: [.addrPort(net("fd00::1"), 443)])
        let key = NFTElementCodec.keyElements(v6).first?.key
        XCTAssertEqual(key, [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 187, 0, 0])
        XCTAssertEqual(key.map { NFTKeyElement(key: $0) }, NFTElementCodec.keyElements(v6).first, "read back as written")
        XCTAssertLessThan(NFTKeyElement(key: Array(key!.dropLast(4)) + [1, 186, 0, 0]), NFTKeyElement(key: key!), "the port orders within an address")
    }

    /// The keys of random address and port sets (overlapping, adjacent, nested, reaching the
    /// top) against a plain byte-array reference: sort by first key, merge what overlaps or
    /// touches, end one past each interval's last key unless it is the top.
    func testIntervalKeysEqualAByteArrayReference() {
        func reference(_ ranges: [(first: [UInt8], last: [UInt8])]) -> Set<NFTKeyElement> {
            func next(_ k: [UInt8]) -> [UInt8]? {
                var k = k
                for i in k.indices.reversed() { if k[i] == 0xff { k[i] = 0 } else { k[i] += 1; return k } }
                return nil
            }
            var merged: [(first: [UInt8], last: [UInt8])] = []
            for r in ranges.sorted(by: { $0.first.lexicographicallyPrecedes($1.first) }) {
                if let top = merged.last {
                    guard let n = next(top.last) else { continue }
                    if !n.lexicographicallyPrecedes(r.first) {
                        if top.last.lexicographicallyPrecedes(r.last) { merged[merged.count - 1].last = r.last }
                        continue
                    }
                }
                merged.append(r)
            }
            var out = Set<NFTKeyElement>()
            for r in merged {
                out.insert(NFTKeyElement(key: r.first))
                if let end = next(r.last) { out.insert(NFTKeyElement(key: end, intervalEnd: true)) }
            }
            return out
        }
        var g = RNG(state: 42)
        for round in 0..<300 {
            let v6 = round % 3 == 0
            var nets: [IPNet] = []
            for _ in 0..<Int.random(in: 1...40, using: &g) {
                let bytes = (0..<(v6 ? 16 : 4)).map { i in i < 2 ? UInt8.random(in: 250...255, using: &g) : UInt8.random(in: 0...255, using: &g) }
                let length = Int.random(in: 0...(v6 ? 128 : 32), using: &g)
                var masked = bytes
                for bit in length..<(bytes.count * 8) { masked[bit / 8] &= ~(0x80 >> UInt8(bit % 8)) }
                nets.append(IPNet(bytes: masked, prefixLength: length)!)
            }
            let set = NFTSet(name: "s", type: v6 ? .ipv6Addr : .ipv4Addr, interval: true, elements: Set(nets.map { .net($0) }))
            let expected = reference(nets.map { n in
                var last = n.bytes
                for bit in n.prefixLength..<(n.bytes.count * 8) { last[bit / 8] |= 0x80 >> UInt8(bit % 8) }
                return (n.bytes, last)
            })
            XCTAssertEqual(NFTElementCodec.keyElements(set), expected, "\(nets)")
            let ports = (0..<Int.random(in: 1...20, using: &g)).map { _ -> ClosedRange<UInt16> in
                let lo = UInt16.random(in: 65_400...65_535, using: &g)
                return lo...UInt16.random(in: lo...65_535, using: &g)
            }
            let portSet = NFTSet(name: "p", type: .inetService, interval: true, elements: Set(ports.map { .ports($0) }))
            XCTAssertEqual(NFTElementCodec.keyElements(portSet),
                           reference(ports.map { ([UInt8($0.lowerBound >> 8), UInt8($0.lowerBound & 0xff)], [UInt8($0.upperBound >> 8), UInt8($0.upperBound & 0xff)]) }),
                           "\(ports)")
        }
    }

    func testRuleUserdataRoundTrips() {
        let data = NFTRuleUserdata.encode(comment: "0123456789abcdef note")
        XCTAssertEqual(data.prefix(2), [0, 22])
        XCTAssertEqual(NFTRuleUserdata.comment(in: data), "0123456789abcdef note")
        XCTAssertNil(NFTRuleUserdata.comment(in: [0, 200, 1]))
        XCTAssertEqual(NFTRuleUserdata.comment(in: [5, 1, 9] + data), "0123456789abcdef note")
    }
}
