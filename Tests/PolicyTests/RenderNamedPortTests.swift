import XCTest
import Core
@testable import Policy

/// Named ports as sets of addresses and ports: a name resolves per destination (or source)
/// endpoint, in ports and in notPorts, in both IP versions, whatever number other pods give it.
final class RenderNamedPortTests: XCTestCase {
    private typealias F = Fixture

    private func iface(_ pod: String) -> String { WorkloadEndpoint.hostInterfaceName(namespace: "x", pod: pod) }

    /// a names 8080 http (dual-stack), b names 9090 http. Policy "only" lets TCP reach a only on
    /// ports other than its http; policy "named" lets TCP reach b only on its http.
    private func ruleset() -> NFTRuleset {
        var a = F.endpoint("a", ip: "10.0.0.1", labels: ["pod": "a"], ports: [EndpointPort(name: "http", protocol: .tcp, port: 8080)])
        a.addresses.append(IPNet(parsing: "fd00::1")!)
        let b = F.endpoint("b", ip: "10.0.0.2", labels: ["pod": "b"], ports: [EndpointPort(name: "http", protocol: .tcp, port: 9090)])
        let notHTTP = PolicyRule(action: .allow, protocol: .tcp, destination: EntityMatch(notPorts: [.named("http")]))
        let policies = [
            F.policy("only", ns: "x", selector: "pod == 'a'", ingress: [notHTTP]),
            F.policy("named", ns: "x", selector: "pod == 'b'", ingress: [PolicyRule(action: .allow, protocol: .tcp,
                                                                                  destination: EntityMatch(ports: [.named("http")]))]),
        ]
        let inputs = CalcInputs(nodeName: "n1", endpoints: [a.key: a, b.key: b], profiles: ["kns.x": F.namespace("x")],
                                policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.key, $0) }))
        return RulesetRenderer.render(DataplaneState.compute(from: inputs))
    }

    private func verdict(_ rs: NFTRuleset, to pod: String, _ address: String, port: UInt16, proto: UInt8 = 6) -> RulesetPacketWalk.Verdict {
        let source = address.contains(":") ? "2001:db8::9" : "192.0.2.9"
        return RulesetPacketWalk.verdict(rs, hook: .forward, packet: NFTPacket(
            inputInterface: "eth0", outputInterface: iface(pod), source: IPNet(parsing: source)!, destination: IPNet(parsing: address)!,
            l4proto: proto, sourcePort: 40000, destinationPort: port))
    }

    func testNamedPortsResolvePerEndpointInPortsAndNotPorts() {
        let rs = ruleset()
        XCTAssertEqual(verdict(rs, to: "a", "10.0.0.1", port: 8080), .drop, "a's own http is excluded")
        XCTAssertEqual(verdict(rs, to: "a", "fd00::1", port: 8080), .drop, "in IPv6 too")
        XCTAssertEqual(verdict(rs, to: "a", "10.0.0.1", port: 9090), .accept, "b's http number is not a's")
        XCTAssertEqual(verdict(rs, to: "a", "fd00::1", port: 80), .accept)
        XCTAssertEqual(verdict(rs, to: "a", "10.0.0.1", port: 8080, proto: 17), .drop, "not TCP: nothing allows it")
        XCTAssertEqual(verdict(rs, to: "b", "10.0.0.2", port: 9090), .accept, "b's own http")
        XCTAssertEqual(verdict(rs, to: "b", "10.0.0.2", port: 8080), .drop, "a's http number is not b's")
    }

    /// One lookup per IP version and name, negated for notPorts; the elements are each
    /// endpoint's address with its own number.
    func testTheRulesAndSetsAreOneLookupPerVersion() {
        let rs = ruleset()
        let only = rs.chains[RenderNames.policyChain(PolicyKey(namespace: "x", name: "only"), ingress: true)]!
        let set = { (v6: Bool) in RenderNames.namedPortSet(.namedPort(.all, .tcp, "http"), ipv6: v6) }
        XCTAssertEqual(only.rules.map(\.matches), [false, true].map { v6 in
            [.l4proto(6), .addrPortInSet(.destination, ipv6: v6, .tcp, set: set(v6), negated: true)]
        })
        XCTAssertEqual(rs.sets[set(false)]?.elements, [.addrPort(IPNet(parsing: "10.0.0.1")!, 8080), .addrPort(IPNet(parsing: "10.0.0.2")!, 9090)])
        XCTAssertEqual(rs.sets[set(true)]?.elements, [.addrPort(IPNet(parsing: "fd00::1")!, 8080)])
        XCTAssertEqual(NFTElementCodec.keyElements(rs.sets[set(true)]!).first?.key,
                       [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x1f, 0x90, 0, 0])
    }
}
