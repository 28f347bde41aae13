import XCTest
import Core
@testable import Policy

final class RenderTests: XCTestCase {
    private typealias F = Fixture

    /// Pod a (local) admits TCP 80 and named port http from pods labelled pod=b; b is remote.
    private func scenario() -> DataplaneState {
        let a = F.endpoint("a", ip: "10.0.0.1", labels: ["pod": "a"], ports: [EndpointPort(name: "http", protocol: .tcp, port: 8080)])
        let b = F.endpoint("b", node: "n2", ip: "10.0.0.2", labels: ["pod": "b"])
        let policy = F.policy("allow-b", ns: "x", order: 1000, selector: "pod == 'a'",
                              ingress: [F.allowFrom("pod == 'b'", ports: [.number(80), .named("http")], proto: .tcp)])
        let inputs = CalcInputs(nodeName: "n1", endpoints: [a.key: a, b.key: b], profiles: ["kns.x": F.namespace("x")],
                                policies: [policy.key: policy])
        return DataplaneState.compute(from: inputs)
    }

    private let conntrack = [NFTRule([.ctState([.established, .related])], verdict: .accept), NFTRule([.ctState([.invalid])], verdict: .drop),
                             NFTRule(statements: [.andMark(~UInt32(0x30000))])]
    private let acceptMark = NFTMatch.mark(value: 0x10000, mask: 0x10000)
    private let notPassed = NFTMatch.mark(value: 0, mask: 0x20000)

    func testSmallScenarioRuleset() {
        let state = scenario()
        let ruleset = RulesetRenderer.render(state)
        let iface = WorkloadEndpoint.hostInterfaceName(namespace: "x", pod: "a")
        let src = IPSetID.selector(F.sel("pod == 'b'"))
        let named = IPSetID.namedPort(.all, .tcp, "http")

        XCTAssertEqual(ruleset.table, "calico")
        XCTAssertEqual(ruleset.family, .inet)
        XCTAssertEqual(ruleset.sets["cali-wl-ifaces"]?.elements, [.ifname(iface)])
        let notAccepted = NFTMatch.mark(value: 0x10000, mask: 0x10000, negated: true)
        let unknownIn = NFTRule([.iifname("cali*"), .iifnameInSet("cali-wl-ifaces", negated: true)], statements: [.counter], verdict: .drop,
                                comment: "unknown workload interface")
        let unknownOut = NFTRule([.oifname("cali*"), .oifnameInSet("cali-wl-ifaces", negated: true)], statements: [.counter], verdict: .drop,
                                 comment: "unknown workload interface")
        XCTAssertEqual(ruleset.chains["filter-forward"]?.rules, [
            NFTRule(statements: [.andMark(~UInt32(0x30000))]),
            unknownIn, unknownOut,
            NFTRule([.iifnameInSet("cali-wl-ifaces")], verdict: .jump("cali-from-wl")),
            NFTRule(verdict: .vmapIifname("cali-fw-dispatch")),
            NFTRule([notAccepted, .iifnameInSet("cali-wl-ifaces")], statements: [.counter], verdict: .drop, comment: "no endpoint chain"),
            NFTRule([.oifnameInSet("cali-wl-ifaces")], verdict: .jump("cali-to-wl")),
            NFTRule(verdict: .vmapOifname("cali-tw-dispatch")),
            NFTRule([.oifnameInSet("cali-wl-ifaces")], statements: [.counter], verdict: .drop, comment: "no endpoint chain"),
        ])
        // Endpoint to host is Drop by default: only what conntrack knows gets through, nothing
        // is evaluated and nothing is dispatched to from the input hook.
        XCTAssertEqual(ruleset.chains["filter-input"]?.rules, [
            unknownIn,
            NFTRule([.iifnameInSet("cali-wl-ifaces"), .ctState([.established, .related])], verdict: .accept),
            NFTRule([.iifnameInSet("cali-wl-ifaces")], statements: [.counter], verdict: .drop, comment: "endpoint to host: drop"),
        ])
        // Anti-spoofing for every workload in one prerouting chain at raw priority: no route back
        // to the source through the interface it came in on, dropped (IPv6 ND/DAD sources exempt).
        XCTAssertEqual(ruleset.chains["raw-prerouting"], NFTChain(name: "raw-prerouting", base: NFTBaseChain(hook: .prerouting, priority: -300), rules: [
            NFTRule([.iifnameInSet("cali-wl-ifaces"), .ipVersion(4), .sourceRouteMissing()], statements: [.counter], verdict: .drop,
                    comment: "spoofed source"),
            NFTRule([.iifnameInSet("cali-wl-ifaces"), .ipVersion(6), .addr(.source, IPNet(parsing: "fe80::/10")!, negated: true),
                     .addr(.source, IPNet(parsing: "::/128")!, negated: true), .sourceRouteMissing()],
                    statements: [.counter], verdict: .drop, comment: "spoofed source"),
        ]))
        // Each endpoint's own chains, reached through a verdict map per direction, give its
        // verdict on the shared chain's mark and count it; they jump nowhere.
        XCTAssertEqual(ruleset.maps, [
            "cali-fw-dispatch": NFTVerdictMap(name: "cali-fw-dispatch", elements: [iface: .jump("cali-fw-" + iface)]),
            "cali-tw-dispatch": NFTVerdictMap(name: "cali-tw-dispatch", elements: [iface: .jump("cali-tw-" + iface)]),
        ])
        let denied = NFTRule(statements: [.counter], verdict: .drop, comment: "no policy or profile allowed it")
        XCTAssertEqual(ruleset.chains["cali-tw-" + iface]?.rules,
                       [NFTRule([acceptMark], statements: [.counter], verdict: .accept, comment: "allowed"), denied])
        XCTAssertEqual(ruleset.chains["cali-fw-" + iface]?.rules,
                       [NFTRule([acceptMark], statements: [.counter], verdict: .return, comment: "allowed: on to the destination"), denied])
        XCTAssertEqual(ruleset.chains.keys.filter { $0.contains(iface) }.sorted(), ["cali-fw-" + iface, "cali-tw-" + iface],
                       "the endpoint's two chains only")
        XCTAssertFalse(ruleset.sets.values.contains { $0.counter }, "counting is in the endpoint chains")

        // One shared chain per direction, pure evaluation: each policy and profile guarded by
        // the set of the interfaces it applies to; it returns with the accept mark set or clear.
        XCTAssertEqual(ruleset.chains["cali-to-wl"]?.rules, conntrack + [
            NFTRule([.oifnameInSet("ep-cali-pi-x_allow-b"), notPassed], verdict: .jump("cali-pi-x_allow-b")),
            NFTRule([acceptMark], verdict: .return, comment: "allowed: ep-cali-pi-x_allow-b"),
            NFTRule([.oifnameInSet("tier-in-default"), notPassed], verdict: .return, comment: "end of tier default: denied"),
            NFTRule(statements: [.andMark(~UInt32(0x20000))], comment: "end of tier default: passed on"),
            // Reached only when every tier passed (or none applies).
            NFTRule([.oifnameInSet("ep-cali-pri-kns.x")], verdict: .jump("cali-pri-kns.x")),
            NFTRule([acceptMark], verdict: .return, comment: "allowed: ep-cali-pri-kns.x"),
        ])
        XCTAssertEqual(ruleset.sets["ep-cali-pi-x_allow-b"]?.elements, [.ifname(iface)])
        XCTAssertEqual(ruleset.sets["tier-in-default"]?.elements, [.ifname(iface)])
        XCTAssertEqual(ruleset.sets["ep-cali-pri-kns.x"]?.elements, [.ifname(iface)])
        // No egress policy: the namespace profile decides.
        XCTAssertEqual(ruleset.chains["cali-from-wl"]?.rules, conntrack + [
            NFTRule([.iifnameInSet("ep-cali-pro-kns.x")], verdict: .jump("cali-pro-kns.x")),
            NFTRule([acceptMark], verdict: .return, comment: "allowed: ep-cali-pro-kns.x"),
        ])
        XCTAssertEqual(ruleset.chains["cali-pro-kns.x"]?.rules, [NFTRule(statements: [.orMark(0x10000)], verdict: .return)])

        func allow(_ v6: Bool, _ extra: [NFTMatch]) -> NFTRule {
            NFTRule([.l4proto(6), .addrInSet(.source, ipv6: v6, set: RenderNames.selectorSet(src, ipv6: v6))] + extra,
                    statements: [.orMark(0x10000)], verdict: .return)
        }
        let namedSet4 = RenderNames.namedPortSet(named, ipv6: false)
        let namedSet6 = RenderNames.namedPortSet(named, ipv6: true)
        // The named port is one lookup of the address and port together, whatever it resolves to.
        XCTAssertEqual(ruleset.chains["cali-pi-x_allow-b"]?.rules, [
            allow(false, [.port(.tcp, .destination, .eq(80))]),
            allow(false, [.addrPortInSet(.destination, ipv6: false, .tcp, set: namedSet4)]),
            allow(true, [.port(.tcp, .destination, .eq(80))]),
            allow(true, [.addrPortInSet(.destination, ipv6: true, .tcp, set: namedSet6)]),
        ])
        XCTAssertEqual(ruleset.sets.keys.filter { $0.hasPrefix("v-") }, [], "one port: in the rules")
        XCTAssertEqual(ruleset.sets[RenderNames.selectorSet(src, ipv6: false)]?.elements, [.net(IPNet(parsing: "10.0.0.2")!)])
        XCTAssertEqual(ruleset.sets[RenderNames.selectorSet(src, ipv6: true)]?.elements, [])
        XCTAssertEqual(ruleset.sets[namedSet4], NFTSet(name: namedSet4, type: .ipv4AddrService, elements: [.addrPort(IPNet(parsing: "10.0.0.1")!, 8080)]))
        XCTAssertEqual(ruleset.sets[namedSet6], NFTSet(name: namedSet6, type: .ipv6AddrService))
        XCTAssertEqual(Set(ruleset.chains.keys), ["raw-prerouting", "filter-forward", "filter-input", "cali-to-wl", "cali-from-wl",
                                                  "cali-pi-x_allow-b", "cali-pri-kns.x", "cali-pro-kns.x", "cali-tw-" + iface, "cali-fw-" + iface])
    }

    /// Endpoints with different policy lists share the dispatch chain; each policy appears once,
    /// in Calico's order, and each endpoint is in the sets of exactly its own policies and tiers.
    func testSharedDispatchKeepsEachEndpointsOrderAndTiers() {
        let eps = [("a", ["app": "web"]), ("b", ["app": "db"]), ("c", ["app": "other"])].map {
            F.endpoint($0.0, ip: "10.0.0.\($0.0 == "a" ? 1 : $0.0 == "b" ? 2 : 3)", labels: $0.1)
        }
        let policies = [
            F.policy("p1", ns: "x", order: 10, selector: "app == 'web'", ingress: [PolicyRule(action: .pass)]),
            F.policy("p2", ns: "x", order: 20, selector: "has(app) && app != 'other'", ingress: [PolicyRule(action: .allow)]),
            F.policy("s1", ns: "x", order: 5, tier: "security", selector: "app == 'db'", ingress: [PolicyRule(action: .deny)]),
        ]
        let inputs = CalcInputs(nodeName: "n1", endpoints: Dictionary(uniqueKeysWithValues: eps.map { ($0.key, $0) }),
                                profiles: ["kns.x": F.namespace("x")], policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.key, $0) }))
        let state = DataplaneState.compute(from: inputs)
        let ruleset = RulesetRenderer.render(state)
        let iface = { (pod: String) in WorkloadEndpoint.hostInterfaceName(namespace: "x", pod: pod) }
        let jumps = ruleset.chains["cali-to-wl"]!.rules.compactMap { $0.verdict?.target }
        XCTAssertEqual(jumps.filter { $0.hasPrefix("cali-pi-") }, ["cali-pi-x_s1", "cali-pi-x_p1", "cali-pi-x_p2"],
                       "tiers in order, each policy once")
        XCTAssertEqual(ruleset.sets["ep-cali-pi-x_p1"]?.elements, [.ifname(iface("a"))])
        XCTAssertEqual(ruleset.sets["ep-cali-pi-x_p2"]?.elements, [.ifname(iface("a")), .ifname(iface("b"))])
        XCTAssertEqual(ruleset.sets["tier-in-security"]?.elements, [.ifname(iface("b"))])
        XCTAssertEqual(ruleset.sets["tier-in-default"]?.elements, [.ifname(iface("a")), .ifname(iface("b"))])
        XCTAssertEqual(ruleset.sets["ep-cali-pri-kns.x"]?.elements, Set(["a", "b", "c"].map { .ifname(iface($0)) }))

        // Packets: a's p1 passes, so its default tier ends without a drop and the profile allows;
        // b is denied by the security tier; c has no policy: the profile allows.
        func verdict(_ pod: String) -> RulesetPacketWalk.Verdict { RulesetPacketWalk.verdict(ruleset, hook: .forward, packet: NFTPacket(
            inputInterface: "eth0", outputInterface: iface(pod), source: IPNet(parsing: "10.9.0.1")!,
            destination: IPNet(parsing: "10.0.0.1")!, l4proto: 6, sourcePort: 1000, destinationPort: 80)) }
        XCTAssertEqual(verdict("a"), .accept)
        XCTAssertEqual(verdict("b"), .drop)
        XCTAssertEqual(verdict("c"), .accept)
    }

    func testSequenceMergeKeepsEveryListsOrder() {
        let slots = SequenceMerge.merge([("e1", ["a", "c", "d"]), ("e2", ["b", "c"]), ("e3", ["a", "b"])])
        XCTAssertEqual(slots.map(\.key), ["a", "b", "c", "d"])
        XCTAssertEqual(slots.map { $0.members.map(\.member) }, [["e1", "e3"], ["e2", "e3"], ["e1", "e2"], ["e1"]])
        // Lists that disagree: a key gets a second slot rather than breaking anyone's order.
        let conflict = SequenceMerge.merge([("e1", ["a", "b"]), ("e2", ["b", "a"])])
        XCTAssertEqual(conflict.map(\.key), ["a", "b", "a"])
        XCTAssertEqual(conflict.map(\.occurrence), [0, 0, 1])
        XCTAssertEqual(conflict.map { $0.members.map(\.member) }, [["e1"], ["e1", "e2"], ["e2"]])
    }

    func testDeterministicAndBrokenReferencesAbsent() {
        let state = scenario()
        let first = RulesetRenderer.render(state)
        XCTAssertEqual(first, RulesetRenderer.render(state))
        XCTAssertEqual(NFTText.render(first), NFTText.render(RulesetRenderer.render(state)))
        // Every jump names a chain that exists and every set match a set that exists.
        for chain in first.chains.values {
            for rule in chain.rules {
                if let target = rule.verdict?.target { XCTAssertNotNil(first.chains[target], target) }
                for match in rule.matches {
                    switch match {
                    case .addrInSet(_, _, let set, _), .iifnameInSet(let set, _), .oifnameInSet(let set, _), .port(_, _, .set(let set), _):
                        XCTAssertNotNil(first.sets[set], set)
                    default: break
                    }
                }
            }
        }
    }

    private func render(_ rule: PolicyRule) -> (rules: [NFTRule], sets: [String: Set<NFTSetElement>]) {
        var sets: [NFTSet] = []
        let rules = RuleRenderer().render(rule, owner: "c", sets: &sets)
        return (rules, Dictionary(uniqueKeysWithValues: sets.map { ($0.name, $0.elements) }))
    }

    private func value(_ rule: PolicyRule, _ field: String) -> String { RenderNames.valueSet(owner: "c", rule: rule, field: field) }

    func testPassDenyLogAndValueSetsRender() {
        XCTAssertEqual(render(PolicyRule(action: .pass)).rules, [NFTRule(statements: [.orMark(0x20000)], verdict: .return)])
        // Per version: two IPv4 nets go into a set, the one IPv6 net and the one notNet into the rule.
        let denyRule = PolicyRule(action: .deny, source: EntityMatch(nets: [IPNet(parsing: "10.0.0.0/8")!, IPNet(parsing: "172.16.0.0/12")!,
                                                                           IPNet(parsing: "fd00::/8")!],
                                                                    notNets: [IPNet(parsing: "10.1.0.0/16")!]))
        let deny = render(denyRule)
        let denyValue = { self.value(denyRule, $0) }
        XCTAssertEqual(deny.rules, [
            NFTRule([.addrInSet(.source, ipv6: false, set: denyValue("s4-nets")), .addr(.source, IPNet(parsing: "10.1.0.0/16")!, negated: true)],
                    verdict: .drop),
            NFTRule([.addr(.source, IPNet(parsing: "fd00::/8")!)], verdict: .drop),
        ])
        XCTAssertEqual(deny.sets, [denyValue("s4-nets"): [.net(IPNet(parsing: "10.0.0.0/8")!), .net(IPNet(parsing: "172.16.0.0/12")!)]])
        let log = render(PolicyRule(action: .log, protocol: .icmp, icmp: ICMPMatch(type: 8)))
        XCTAssertEqual(log.rules, [NFTRule([.ipVersion(4), .l4proto(1), .icmp(ipv6: false, type: 8, code: nil)], statements: [.log(prefix: "calico-packet: ")])])
        let v4Rule = PolicyRule(action: .allow, ipVersion: 4, protocol: .udp,
                                destination: EntityMatch(ports: [.range(1000, 2000), .number(53)], notPorts: [.number(1500)]))
        let v4only = render(v4Rule)
        let v4value = { self.value(v4Rule, $0) }
        XCTAssertEqual(v4only.rules, [NFTRule([.ipVersion(4), .l4proto(17), .port(.udp, .destination, .eq(1500), negated: true),
                                               .port(.udp, .destination, .set(v4value("d-ports")))],
                                              statements: [.orMark(0x10000)], verdict: .return)])
        XCTAssertEqual(v4only.sets, [v4value("d-ports"): [.ports(1000...2000), .port(53)]])
    }

    /// A rule's value lists can change without its rules changing: the same rules, other set elements.
    func testValueChangeKeepsRulesAndSetNames() {
        let before = render(PolicyRule(action: .allow, protocol: .tcp, source: EntityMatch(nets: [IPNet(parsing: "10.0.0.0/8")!, IPNet(parsing: "10.1.0.0/16")!]),
                                       destination: EntityMatch(ports: [.number(80), .number(81)])))
        let after = render(PolicyRule(action: .allow, protocol: .tcp, source: EntityMatch(nets: [IPNet(parsing: "10.2.0.0/16")!, IPNet(parsing: "10.3.0.0/16")!]),
                                      destination: EntityMatch(ports: [.number(443), .range(8000, 8100)])))
        XCTAssertEqual(before.rules, after.rules)
        XCTAssertEqual(Set(before.sets.keys), Set(after.sets.keys))
        XCTAssertNotEqual(before.sets, after.sets)
    }

    /// notICMP with a code excludes only that type and code together.
    func testNotICMPTypeAndCodeExcludesThePairOnly() {
        let rule = NFTRule([.icmp(ipv6: false, type: 8, code: 0, negated: true)], verdict: .drop)
        XCTAssertEqual(rule.body, "meta l4proto 1 @th,0,16 != 2048 drop")
        let ruleset = NFTRuleset(chains: [NFTChain(name: "in", base: NFTBaseChain(hook: .input), rules: [rule])])
        func verdict(type: UInt8, code: UInt8) -> RulesetPacketWalk.Verdict {
            RulesetPacketWalk.verdict(ruleset, hook: .input, packet: NFTPacket(
                inputInterface: "eth0", outputInterface: "", source: IPNet(parsing: "10.0.0.1")!, destination: IPNet(parsing: "10.0.0.2")!,
                l4proto: 1, icmpType: type, icmpCode: code))
        }
        XCTAssertEqual(verdict(type: 8, code: 0), .accept)
        XCTAssertEqual(verdict(type: 8, code: 1), .drop, "same type, other code: not the pair")
        XCTAssertEqual(verdict(type: 0, code: 0), .drop, "other type, same code: not the pair")
    }
}
