import XCTest
import Core
@testable import Policy

/// `EndpointView`: one endpoint's order of evaluation and the kernel rules that apply to it,
/// which must decide exactly as the whole shared chain does for its packets.
final class EndpointViewTests: XCTestCase {
    private typealias F = Fixture

    private func iface(_ pod: String) -> String { WorkloadEndpoint.hostInterfaceName(namespace: "x", pod: pod) }

    /// a and b are web pods; c is not. allow-web selects the web pods (ingress from c on 80),
    /// deny-b b alone in tier security (egress), and a Pass in tier security for a.
    private func scenario() -> DataplaneState {
        let a = F.endpoint("a", ip: "10.0.0.1", labels: ["app": "web", "pod": "a"])
        let b = F.endpoint("b", ip: "10.0.0.2", labels: ["app": "web", "pod": "b"])
        let c = F.endpoint("c", ip: "10.0.0.3", labels: ["pod": "c"])
        let policies = [
            F.policy("allow-web", ns: "x", order: 10, selector: "app == 'web'", ingress: [F.allowFrom("pod == 'c'", ports: [.number(80)], proto: .tcp)]),
            F.policy("deny-b", ns: "x", order: 1, tier: "security", selector: "pod == 'b'", egress: [PolicyRule(action: .deny)]),
            F.policy("pass-a", ns: "x", order: 2, tier: "security", selector: "pod == 'a'", ingress: [PolicyRule(action: .pass)]),
        ]
        let inputs = CalcInputs(nodeName: "n1", endpoints: [a.key: a, b.key: b, c.key: c], profiles: ["kns.x": F.namespace("x")],
                                policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.key, $0) }))
        return DataplaneState.compute(from: inputs)
    }

    func testEachEndpointSeesItsOwnPoliciesInOrder() throws {
        let state = scenario()
        let ruleset = RulesetRenderer.render(state)
        let a = try XCTUnwrap(EndpointView.make(interface: iface("a"), node: "n1", state: state, ruleset: ruleset))
        XCTAssertEqual(a.endpoint, "x/a")
        XCTAssertEqual(a.addresses, ["10.0.0.1/32"])
        XCTAssertEqual(a.ingress.tiers, [EndpointView.Tier(name: "security", policies: ["x/pass-a"]),
                                         EndpointView.Tier(name: "default", policies: ["x/allow-web"])])
        XCTAssertEqual(a.egress.tiers, [])
        XCTAssertEqual(a.ingress.profiles, ["kns.x"])
        XCTAssertEqual(a.ingress.chain, "cali-to-wl")
        func jumps(_ rules: [String]) -> [String] {
            rules.compactMap { rule in rule.range(of: "jump ").map { String(rule[$0.upperBound...].prefix { $0 != " " }) } }
        }
        XCTAssertEqual(jumps(a.ingress.rules), ["cali-pi-x_pass-a", "cali-pi-x_allow-web", "cali-pri-kns.x"], "Calico's order")
        XCTAssertEqual(jumps(a.egress.rules), ["cali-pro-kns.x"])
        let b = try XCTUnwrap(EndpointView.make(interface: iface("b"), node: "n1", state: state, ruleset: ruleset))
        XCTAssertEqual(jumps(b.ingress.rules), ["cali-pi-x_allow-web", "cali-pri-kns.x"])
        XCTAssertEqual(jumps(b.egress.rules), ["cali-po-x_deny-b", "cali-pro-kns.x"])
        let c = try XCTUnwrap(EndpointView.make(interface: iface("c"), node: "n1", state: state, ruleset: ruleset))
        XCTAssertEqual(c.ingress.tiers, [])
        XCTAssertEqual(jumps(c.ingress.rules), ["cali-pri-kns.x"], "no policy selects c: its profile alone")
        // Conntrack comes first in every endpoint's view; the verdict is the two counted rules.
        XCTAssertEqual(Array(c.ingress.rules.prefix(2)), ["ct state established,related accept", "ct state invalid drop"])
        XCTAssertEqual(a.ingress.endpointChain, "cali-tw-" + iface("a"))
        XCTAssertEqual(a.egress.endpointChain, "cali-fw-" + iface("a"))
        XCTAssertEqual(a.ingress.endpointRules, [#"meta mark & 0x10000 == 0x10000 counter accept comment "allowed""#,
                                                 #"counter drop comment "no policy or profile allowed it""#])
        XCTAssertEqual(a.egress.endpointRules.first, #"meta mark & 0x10000 == 0x10000 counter return comment "allowed: on to the destination""#)
        XCTAssertNil(EndpointView.make(interface: "cali-none", node: "n1", state: state, ruleset: ruleset))
        XCTAssertEqual(a.egress.rules.filter { $0.contains(" return") }, [#"meta mark & 0x10000 == 0x10000 return comment "allowed: ep-cali-pro-kns.x""#],
                       "deny-b's place is not a's: neither its jump nor the return after it")
        XCTAssertTrue(a.text.contains("  tier security: x/pass-a\n  tier default: x/allow-web\n  profiles: kns.x\n"), a.text)
        XCTAssertTrue(a.text.contains("  then its own chain cali-tw-\(iface("a")):\n    meta mark"), a.text)
    }

    /// The rules the view leaves out cannot touch the endpoint: with the shared chain cut down to
    /// the view's rules, every packet to or from each endpoint gets the verdict it gets now.
    func testTheViewDecidesAsTheWholeChain() {
        let state = scenario()
        let ruleset = RulesetRenderer.render(state)
        let pods = ["a": "10.0.0.1", "b": "10.0.0.2", "c": "10.0.0.3"]
        var compared = 0, cuts = 0
        for (pod, _) in pods {
            for ingress in [true, false] {
                var cut = ruleset
                let chain = RenderNames.dispatchChain(ingress: ingress)
                cut.chains[chain]?.rules = EndpointView.applying(ruleset.chains[chain]!.rules, iface(pod), ingress: ingress, ruleset)
                if cut.chains[chain]!.rules.count < ruleset.chains[chain]!.rules.count { cuts += 1 }
                for (peer, peerAddress) in pods where peer != pod {
                    for port: UInt16 in [80, 81] {
                        for proto: UInt8 in [6, 17] {
                            let (from, to) = ingress ? (peer, pod) : (pod, peer)
                            let packet = NFTPacket(inputInterface: iface(from), outputInterface: iface(to),
                                                   source: IPNet(parsing: ingress ? peerAddress : pods[pod]!)!,
                                                   destination: IPNet(parsing: ingress ? pods[pod]! : peerAddress)!,
                                                   l4proto: proto, sourcePort: 40000, destinationPort: port)
                            // The other side's chain is whole in both: only this side's is cut.
                            XCTAssertEqual(RulesetPacketWalk.verdict(cut, hook: .forward, packet: packet),
                                           RulesetPacketWalk.verdict(ruleset, hook: .forward, packet: packet),
                                           "\(from) -> \(to) \(proto)/\(port)")
                            compared += 1
                        }
                    }
                }
            }
        }
        XCTAssertEqual(compared, 3 * 2 * 2 * 2 * 2)
        XCTAssertEqual(cuts, 4, "a's egress and b's ingress lack the other's policy, c's both directions")
    }
}
