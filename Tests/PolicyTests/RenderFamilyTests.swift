import XCTest
import Core
@testable import Policy

/// Which IP family each rendered rule takes: without IPv6 support (the IPv4 manifests'
/// setting) no IPv6 rule or set is rendered; a rule whose only address match is of the other
/// family tests its own.
final class RenderFamilyTests: XCTestCase {
    private typealias F = Fixture

    func testNoIPv6RulesOrSets() {
        var a = F.endpoint("a", ip: "10.0.0.1", labels: ["pod": "a"], ports: [EndpointPort(name: "http", protocol: .tcp, port: 8080)])
        a.addresses.append(IPNet(parsing: "fd00::1")!)
        let rules = [
            PolicyRule(action: .allow, protocol: .tcp, source: EntityMatch(selector: F.sel("pod == 'a'")),
                       destination: EntityMatch(ports: [.named("http")])),
            PolicyRule(action: .deny, ipVersion: 6),
            PolicyRule(action: .allow, protocol: .udp),
        ]
        var inputs = CalcInputs(nodeName: "n1", endpoints: [a.key: a], profiles: ["kns.x": F.namespace("x")],
                                policies: [PolicyKey(namespace: "x", name: "p"): F.policy("p", ns: "x", selector: "pod == 'a'", ingress: rules)])
        let with = RulesetRenderer.render(DataplaneState.compute(from: inputs))
        inputs.config.ipv6 = false
        let without = RulesetRenderer.render(DataplaneState.compute(from: inputs))
        let chain = RenderNames.policyChain(PolicyKey(namespace: "x", name: "p"), ingress: true)
        XCTAssertEqual(with.chains[chain]?.rules.count, 4, "v4 and v6 of the first, the IPv6 deny, the UDP allow")
        XCTAssertEqual(without.chains[chain]?.rules.map(\.matches), [
            [.l4proto(6), .addrInSet(.source, ipv6: false, set: RenderNames.selectorSet(.selector(F.sel("pod == 'a'")), ipv6: false)),
             .addrPortInSet(.destination, ipv6: false, .tcp, set: RenderNames.namedPortSet(.namedPort(.all, .tcp, "http"), ipv6: false))],
            [.l4proto(17)],
        ])
        XCTAssertEqual(without.sets.values.filter { $0.type == .ipv6Addr || $0.type == .ipv6AddrService }, [])
        XCTAssertFalse(with.sets.values.filter { $0.type == .ipv6Addr || $0.type == .ipv6AddrService }.isEmpty)
    }

    /// An allow with notNets of one IPv6 host: IPv4 passes, IPv6 passes except from that host.
    /// (The IPv4 rule has no address to load: it must test the family, or it takes the
    /// excluded host's IPv6 packets too.)
    func testNotNetsOfOneFamilyDoNotOpenTheOther() {
        let a = F.endpoint("a", ip: "10.0.0.1", labels: ["pod": "a"])
        let rule = PolicyRule(action: .allow, source: EntityMatch(notNets: [IPNet(parsing: "fd00::bad/128")!]))
        let inputs = CalcInputs(nodeName: "n1", endpoints: [a.key: a], profiles: ["kns.x": F.namespace("x")],
                                policies: [PolicyKey(namespace: "x", name: "p"): F.policy("p", ns: "x", selector: "pod == 'a'", ingress: [rule])])
        let state = DataplaneState.compute(from: inputs)
        let rs = RulesetRenderer.render(state)
        func verdict(from source: String, to destination: String) -> RulesetPacketWalk.Verdict {
            RulesetPacketWalk.verdict(rs, hook: .forward, packet: NFTPacket(
                inputInterface: "eth0", outputInterface: a.interfaceName, source: IPNet(parsing: source)!,
                destination: IPNet(parsing: destination)!, l4proto: 6, sourcePort: 40000, destinationPort: 80))
        }
        XCTAssertEqual(verdict(from: "192.0.2.9", to: "10.0.0.1"), .accept)
        XCTAssertEqual(verdict(from: "2001:db8::9", to: "fd00::1"), .accept)
        XCTAssertEqual(verdict(from: "fd00::bad", to: "fd00::1"), .drop, "the excluded host")
        let flow = ExplainFlow(source: "outside", destination: a.key, sourceAddress: IPNet(parsing: "fd00::bad")!,
                               destinationAddress: IPNet(parsing: "fd00::1")!, protocol: .tcp, sourcePort: 40000, destinationPort: 80)
        XCTAssertEqual(ExplainRuleMatch.evaluate(rule, flow, ipSets: state.ipSets), .no, "explain agrees")
    }
}
