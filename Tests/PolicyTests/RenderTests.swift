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

    func testSmallScenarioRuleset() {
        let state = scenario()
        let ruleset = RulesetRenderer.render(state)
        let iface = WorkloadEndpoint.hostInterfaceName(namespace: "x", pod: "a")
        let src = IPSetID.selector(F.sel("pod == 'b'"))
        let named = IPSetID.namedPort(.all, .tcp, "http")
        let accept = NFTMatch.mark(value: 0x10000, mask: 0x10000)
        let notPassed = NFTMatch.mark(value: 0, mask: 0x20000)

        XCTAssertEqual(ruleset.table, "calico")
        XCTAssertEqual(ruleset.family, .inet)
        XCTAssertEqual(ruleset.maps["cali-to-wl"]?.elements, [iface: .jump("cali-tw-" + iface)])
        XCTAssertEqual(ruleset.maps["cali-from-wl"]?.elements, [iface: .jump("cali-fw-" + iface)])
        XCTAssertEqual(ruleset.sets["cali-wl-ifaces"]?.elements, [.ifname(iface)])

        let conntrack = [NFTRule([.ctState([.established, .related])], verdict: .accept), NFTRule([.ctState([.invalid])], verdict: .drop),
                         NFTRule(statements: [.andMark(~UInt32(0x30000))])]
        XCTAssertEqual(ruleset.chains["cali-tw-" + iface]?.rules, conntrack + [
            NFTRule([notPassed], verdict: .jump("cali-pi-x_allow-b")),
            NFTRule([accept], verdict: .accept),
            NFTRule([notPassed], verdict: .drop, comment: "end of tier default"),
            NFTRule(statements: [.andMark(~UInt32(0x20000))]),
            // Reached only when every tier passed.
            NFTRule(verdict: .jump("cali-pri-kns.x")),
            NFTRule([accept], verdict: .accept),
            NFTRule(verdict: .drop, comment: "no policy or profile allowed it"),
        ])
        // No egress policy: the namespace profile decides.
        XCTAssertEqual(ruleset.chains["cali-fw-" + iface]?.rules, conntrack + [
            NFTRule(verdict: .jump("cali-pro-kns.x")),
            NFTRule([accept], verdict: .return),
            NFTRule(verdict: .drop, comment: "no policy or profile allowed it"),
        ])
        XCTAssertEqual(ruleset.chains["cali-pro-kns.x"]?.rules, [NFTRule(statements: [.orMark(0x10000)], verdict: .return)])

        func allow(_ v6: Bool, _ extra: [NFTMatch]) -> NFTRule {
            NFTRule([.l4proto(6), .addrInSet(.source, ipv6: v6, set: RenderNames.selectorSet(src, ipv6: v6))] + extra,
                    statements: [.orMark(0x10000)], verdict: .return)
        }
        let namedSet4 = RenderNames.namedPortSet(named, proto: .tcp, port: 8080, ipv6: false)
        let namedSet6 = RenderNames.namedPortSet(named, proto: .tcp, port: 8080, ipv6: true)
        XCTAssertEqual(ruleset.chains["cali-pi-x_allow-b"]?.rules, [
            allow(false, [.port(.tcp, .destination, .eq(80))]),
            allow(false, [.addrInSet(.destination, ipv6: false, set: namedSet4), .port(.tcp, .destination, .eq(8080))]),
            allow(true, [.port(.tcp, .destination, .eq(80))]),
            allow(true, [.addrInSet(.destination, ipv6: true, set: namedSet6), .port(.tcp, .destination, .eq(8080))]),
        ])
        XCTAssertEqual(ruleset.sets[RenderNames.selectorSet(src, ipv6: false)]?.elements, [.net(IPNet(parsing: "10.0.0.2")!)])
        XCTAssertEqual(ruleset.sets[RenderNames.selectorSet(src, ipv6: true)]?.elements, [])
        XCTAssertEqual(ruleset.sets[namedSet4]?.elements, [.net(IPNet(parsing: "10.0.0.1")!)])
        XCTAssertEqual(Set(ruleset.chains.keys), ["filter-forward", "filter-input", "cali-tw-" + iface, "cali-fw-" + iface,
                                                  "cali-pi-x_allow-b", "cali-pri-kns.x", "cali-pro-kns.x"])
        XCTAssertEqual(ruleset.chains["filter-input"]?.rules.last?.verdict, .drop)
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
                for case .addrInSet(_, _, let set, _) in rule.matches { XCTAssertNotNil(first.sets[set], set) }
            }
        }
    }

    func testPassDenyLogAndNetsRender() {
        let rules = RuleRenderer(state: DataplaneState())
        let pass = rules.render(PolicyRule(action: .pass), comment: nil)
        XCTAssertEqual(pass, [NFTRule(statements: [.orMark(0x20000)], verdict: .return)])
        let deny = rules.render(PolicyRule(action: .deny, source: EntityMatch(nets: [IPNet(parsing: "10.0.0.0/8")!, IPNet(parsing: "fd00::/8")!],
                                                                              notNets: [IPNet(parsing: "10.1.0.0/16")!])), comment: nil)
        XCTAssertEqual(deny, [
            NFTRule([.addr(.source, IPNet(parsing: "10.0.0.0/8")!), .addr(.source, IPNet(parsing: "10.1.0.0/16")!, negated: true)], verdict: .drop),
            NFTRule([.addr(.source, IPNet(parsing: "fd00::/8")!)], verdict: .drop),
        ])
        let log = rules.render(PolicyRule(action: .log, protocol: .icmp, icmp: ICMPMatch(type: 8)), comment: nil)
        XCTAssertEqual(log, [NFTRule([.ipVersion(4), .l4proto(1), .icmp(ipv6: false, type: 8, code: nil)], statements: [.log(prefix: "calico-packet: ")])])
        let v4only = rules.render(PolicyRule(action: .allow, ipVersion: 4, protocol: .udp,
                                             destination: EntityMatch(ports: [.range(1000, 2000), .number(53)], notPorts: [.number(1500)])),
                                  comment: nil)
        XCTAssertEqual(v4only, [NFTRule([.ipVersion(4), .l4proto(17), .port(.udp, .destination, .eq(1500), negated: true),
                                         .port(.udp, .destination, .anyOf([53...53, 1000...2000]))],
                                        statements: [.orMark(0x10000)], verdict: .return)])
    }
}
