import Core
import Foundation
import Policy
import XCTest

/// nftables programming against the real kernel, each test in a throwaway namespace.
final class NFTablesTests: XCTestCase {
    static func sample(extraRule: Bool = false, dropPing: Bool = false) -> NFTRuleset {
        var rs = NFTRuleset()
        rs.add(NFTSet(name: "s-web", type: .ipv4Addr, interval: true,
                      elements: [.net(IPNet(parsing: "10.65.0.0/24")!), .net(IPNet(parsing: "10.65.1.7")!)]))
        rs.add(NFTSet(name: "ports", type: .inetService, elements: [.port(80), .port(443)]))
        // A named port's addresses and ports, both versions (keys of 8 and 20 bytes).
        rs.add(NFTSet(name: "n4-http", type: .ipv4AddrService,
                      elements: [.addrPort(IPNet(parsing: "10.65.0.5")!, 8080), .addrPort(IPNet(parsing: "10.65.0.6")!, 8081)]))
        rs.add(NFTSet(name: "n6-http", type: .ipv6AddrService, elements: [.addrPort(IPNet(parsing: "fd00::5")!, 8080)]))
        rs.add(NFTVerdictMap(name: "to-wl", elements: ["cali1": .goto("cali-tw-cali1"), "cali2": .goto("cali-tw-cali2")]))
        var policy = [
            NFTRule([.addrInSet(.source, ipv6: false, set: "s-web", negated: false), .port(.tcp, .destination, .set("ports"))],
                    statements: [.counter, .orMark(0x10000)], verdict: .return),
            NFTRule([.port(.udp, .destination, .anyOf([53...53, 5000...5100]))], verdict: .accept),
            NFTRule([.addr(.destination, IPNet(parsing: "192.168.0.0/16")!, negated: true), .icmp(ipv6: false, type: 8, code: nil)],
                    statements: [.log(prefix: "calico-drop ")], verdict: .drop),
            NFTRule([.addrPortInSet(.destination, ipv6: false, .tcp, set: "n4-http")], statements: [.orMark(0x10000)], verdict: .return),
            NFTRule([.addrPortInSet(.source, ipv6: true, .udp, set: "n6-http", negated: true)], verdict: .drop),
        ]
        if extraRule { policy.insert(NFTRule([.l4protoIn([6, 17])], verdict: .accept, comment: "new"), at: 1) }
        rs.add(NFTChain(name: "cali-pi-web", rules: policy))
        for wl in ["cali1", "cali2"] {
            rs.add(NFTChain(name: "cali-tw-\(wl)", rules: [
                NFTRule([.ctState([.established, .related])], verdict: .accept),
                NFTRule([.ctState([.invalid])], verdict: .drop),
                NFTRule(statements: [.andMark(0xfffe_ffff)]),
                NFTRule(verdict: .jump("cali-pi-web")),
                NFTRule([.mark(value: 0x10000, mask: 0x10000)], verdict: .return),
                NFTRule(statements: [.counter], verdict: .drop),
            ]))
        }
        var input = [NFTRule([.iifname("lo")], verdict: .accept)]
        if dropPing { input.append(NFTRule([.icmp(ipv6: false, type: 8, code: nil)], statements: [.counter], verdict: .drop)) }
        rs.add(NFTChain(name: "input", base: NFTBaseChain(hook: .input, priority: 0, policy: .accept), rules: input))
        rs.add(NFTChain(name: "forward", base: NFTBaseChain(hook: .forward, priority: 0, policy: .accept),
                        rules: [NFTRule(verdict: .vmapOifname("to-wl"))]))
        return rs
    }

    /// A veth between two namespaces (`<subnet>.1` in the first, `.2` in the second) and a ping
    /// from the first to the second.
    static func pingPair(_ a: NetNamespace, _ b: NetNamespace, links: (String, String), subnet: String) throws -> () -> Bool {
        let (na, nb) = (KernelFixture.name(a), KernelFixture.name(b))
        try KernelFixture.ip(nil, ["link", "add", links.0, "netns", na, "type", "veth", "peer", "name", links.1, "netns", nb])
        try KernelFixture.ip(a, ["addr", "add", "\(subnet).1/24", "dev", links.0])
        try KernelFixture.ip(b, ["addr", "add", "\(subnet).2/24", "dev", links.1])
        try KernelFixture.ip(a, ["link", "set", links.0, "up"])
        try KernelFixture.ip(b, ["link", "set", links.1, "up"])
        return { (try? KernelFixture.run("/usr/sbin/ip", ["netns", "exec", na, "ping", "-c1", "-W1", "\(subnet).2"])) != nil }
    }

    private func nftJSON(_ ns: NetNamespace) throws -> [[String: Any]] {
        let out = try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(ns),
                                                         "nft", "-j", "list", "table", "inet", "calico"])
        let object = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        return object?["nftables"] as? [[String: Any]] ?? []
    }

    func testProgramsRulesetMatchingNftListing() throws {
        try KernelFixture.withNamespaces(1) { spaces in
            let nft = try NFTProgrammer(namespace: spaces[0])
            let desired = Self.sample()
            let plan = try nft.apply(desired)
            XCTAssertEqual(plan.addRules.count, desired.ruleCount)
            let listing = try nftJSON(spaces[0])
            let chains = Set(listing.compactMap { ($0["chain"] as? [String: Any])?["name"] as? String })
            XCTAssertEqual(chains, Set(desired.chains.keys))
            let rules = listing.compactMap { $0["rule"] as? [String: Any] }
            XCTAssertEqual(rules.count, desired.ruleCount)
            let comments = Set(rules.compactMap { $0["comment"] as? String })
            let expected = Set(desired.chains.values.flatMap { $0.rules.map(\.storedComment) })
            XCTAssertEqual(comments, expected)
            let sets = listing.compactMap { $0["set"] as? [String: Any] }
            let web = try XCTUnwrap(sets.first { $0["name"] as? String == "s-web" })
            XCTAssertEqual(web["type"] as? String, "ipv4_addr")
            XCTAssertTrue("\(web["elem"] ?? "")".contains("10.65.0.0"), "\(web)")
            XCTAssertTrue("\(web["elem"] ?? "")".contains("10.65.1.7"), "\(web)")
            let maps = listing.compactMap { $0["map"] as? [String: Any] }
            XCTAssertEqual(maps.first?["name"] as? String, "to-wl")
            XCTAssertTrue("\(maps.first?["elem"] ?? "")".contains("cali-tw-cali2"))
            // Read back equals what we programmed; a second apply changes nothing, even from a fresh
            // programmer (a restarted felix).
            let state = try nft.readProgrammed()
            XCTAssertEqual(state.chains["cali-tw-cali1"]?.rules.map(\.identity), desired.chains["cali-tw-cali1"]!.rules.map(\.identity))
            XCTAssertEqual(state.sets["s-web"]?.elements, NFTElementCodec.keyElements(desired.sets["s-web"]!))
            XCTAssertEqual(state.maps["to-wl"], desired.maps["to-wl"]!.elements)
            XCTAssertTrue(try nft.apply(desired).isEmpty)
            XCTAssertTrue(try NFTProgrammer(namespace: spaces[0]).apply(desired).isEmpty)
        }
    }

    /// nft prints what we programmed exactly as it prints the same ruleset loaded from our text.
    func testNftListsOursLikeItsOwnLoadOfOurText() throws {
        try KernelFixture.withNamespaces(2) { spaces in
            let desired = Self.sample(extraRule: true, dropPing: true)
            try NFTProgrammer(namespace: spaces[0]).apply(desired)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("nft-\(KernelFixture.uniqueName("t")).nft")
            try NFTText.render(desired).write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(spaces[1]), "nft", "-f", file.path])
            let list = { (ns: NetNamespace) in
                try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(ns), "nft", "list", "table", "inet", "calico"])
            }
            XCTAssertEqual(try list(spaces[0]), try list(spaces[1]))
        }
    }

    func testChangeKeepsUntouchedRuleHandles() throws {
        try KernelFixture.withNamespaces(1) { spaces in
            let nft = try NFTProgrammer(namespace: spaces[0])
            try nft.apply(Self.sample())
            let before = try nft.readProgrammed()
            var changed = Self.sample(extraRule: true)
            changed.sets["s-web"]!.elements.insert(.net(IPNet(parsing: "10.66.0.0/16")!))
            changed.maps["to-wl"]!.elements["cali2"] = nil
            let plan = try nft.apply(changed)
            XCTAssertEqual(plan.addRules.count, 1)
            XCTAssertEqual(plan.deleteRules.count, 0)
            XCTAssertEqual(plan.deleteMapElements["to-wl"], ["cali2"])
            // The programmer's own updated state (not re-read) already matches the kernel.
            XCTAssertTrue(try nft.apply(changed).isEmpty)
            let after = try nft.readProgrammed()
            for (name, chain) in before.chains {
                let kept = Set(chain.rules.map(\.handle))
                XCTAssertTrue(kept.isSubset(of: Set(after.chains[name]!.rules.map(\.handle))), name)
            }
            XCTAssertEqual(after.chains["cali-pi-web"]?.rules.map(\.identity), changed.chains["cali-pi-web"]!.rules.map(\.identity))
            XCTAssertEqual(after.sets["s-web"]?.elements, NFTElementCodec.keyElements(changed.sets["s-web"]!))
            XCTAssertEqual(after.maps["to-wl"], ["cali1": .goto("cali-tw-cali1")])
            // And back: the inserted rule goes, the others stay.
            let back = try nft.apply(Self.sample())
            XCTAssertEqual(back.deleteRules.count, 1)
            XCTAssertEqual(back.addRules.count, 0)
        }
    }

    func testFailingBatchAppliesNothing() throws {
        try KernelFixture.withNamespaces(1) { spaces in
            let nft = try NFTProgrammer(namespace: spaces[0])
            try nft.apply(Self.sample())
            let before = try nft.readProgrammed()
            var broken = Self.sample(extraRule: true)
            broken.add(NFTChain(name: "cali-extra", rules: [NFTRule(verdict: .accept)]))
            broken.chains["cali-tw-cali1"]!.rules.append(NFTRule(verdict: .jump("no-such-chain")))
            XCTAssertThrowsError(try nft.apply(broken)) { error in
                guard case NFTError.batchRejected(let failures) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(failures.contains { $0.operation.contains("no-such-chain") }, "\(failures)")
            }
            XCTAssertEqual(try nft.readProgrammed(), before)
            XCTAssertTrue(try nft.apply(Self.sample()).isEmpty)
        }
    }

    func testRuleDropsAndAcceptsRealPackets() throws {
        try KernelFixture.withNamespaces(2) { spaces in
            let ping = try Self.pingPair(spaces[0], spaces[1], links: ("nfa", "nfb"), subnet: "10.77.0")
            XCTAssertTrue(ping())
            let nft = try NFTProgrammer(namespace: spaces[1])
            try nft.apply(Self.sample(dropPing: true))
            XCTAssertFalse(ping())
            try nft.apply(Self.sample())
            XCTAssertTrue(ping())
            try nft.deleteTable()
            try nft.deleteTable()
            XCTAssertFalse(try nft.readProgrammed().tableExists)
        }
    }

    /// Calico's notICMP {type, code} is "not this type and code together": an echo request
    /// (8/0) passes `not 8/0`-drop and is dropped by `not 8/1`-drop. nft loads our text form of
    /// it and lists it as it lists what we programmed.
    func testNotICMPTypeAndCodeNegatesThePair() throws {
        try KernelFixture.withNamespaces(3) { spaces in
            let ping = try Self.pingPair(spaces[0], spaces[1], links: ("nic", "nid"), subnet: "10.77.1")
            func ruleset(code: UInt8) -> NFTRuleset {
                NFTRuleset(chains: [NFTChain(name: "input", base: NFTBaseChain(hook: .input), rules: [
                    NFTRule([.icmp(ipv6: false, type: 8, code: code, negated: true)], verdict: .drop),
                ])])
            }
            let nft = try NFTProgrammer(namespace: spaces[1])
            try nft.apply(ruleset(code: 0))
            XCTAssertTrue(ping(), "an echo request is 8/0: not dropped by 'not 8/0'")
            try nft.apply(ruleset(code: 1))
            XCTAssertFalse(ping(), "an echo request is not 8/1: dropped")

            let file = FileManager.default.temporaryDirectory.appendingPathComponent("nft-\(KernelFixture.uniqueName("t")).nft")
            try NFTText.render(ruleset(code: 1)).write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(spaces[2]), "nft", "-f", file.path])
            let list = { (ns: NetNamespace) in
                try KernelFixture.run("/usr/sbin/ip", ["netns", "exec", KernelFixture.name(ns), "nft", "list", "table", "inet", "calico"])
            }
            XCTAssertEqual(try list(spaces[1]), try list(spaces[2]))
        }
    }
}
