import XCTest
import Core
@testable import Policy

/// The per-endpoint leaf chains below the shared evaluation chains: their verdicts, the
/// anti-spoofing of `cali-fw-<iface>`, the dispatch maps, and how few paths reach a policy.
final class RenderLeafTests: XCTestCase {
    private typealias F = Fixture

    private func endpoint(_ pod: String, addresses: [String], labels: [String: String] = [:]) -> WorkloadEndpoint {
        var e = F.endpoint(pod, ip: addresses[0], labels: labels)
        e.addresses = addresses.map { IPNet(parsing: $0)! }
        return e
    }

    private func iface(_ pod: String) -> String { WorkloadEndpoint.hostInterfaceName(namespace: "x", pod: pod) }

    private func packet(from pod: String, source: String, to destination: String, out: String = "eth0") -> NFTPacket {
        NFTPacket(inputInterface: iface(pod), outputInterface: out, source: IPNet(parsing: source)!,
                  destination: IPNet(parsing: destination)!, l4proto: 6, sourcePort: 40000, destinationPort: 80)
    }

    /// A dual-stack pod may send from its own addresses only; a spoofed source is dropped in its
    /// leaf even though its profile allows all egress.
    func testFromWorkloadLeafDropsSpoofedSources() {
        let a = endpoint("a", addresses: ["10.0.0.1/32", "fd00::1/128"])
        let inputs = CalcInputs(nodeName: "n1", endpoints: [a.key: a], profiles: ["kns.x": F.namespace("x")])
        let ruleset = RulesetRenderer.render(DataplaneState.compute(from: inputs))
        func verdict(_ source: String, _ destination: String) -> RulesetPacketWalk.Verdict {
            RulesetPacketWalk.verdict(ruleset, hook: .forward, packet: packet(from: "a", source: source, to: destination))
        }
        XCTAssertEqual(verdict("10.0.0.1", "192.0.2.1"), .accept)
        XCTAssertEqual(verdict("10.0.0.9", "192.0.2.1"), .drop, "another pod's address")
        XCTAssertEqual(verdict("192.0.2.7", "192.0.2.1"), .drop)
        XCTAssertEqual(verdict("fd00::1", "2001:db8::1"), .accept)
        XCTAssertEqual(verdict("fd00::2", "2001:db8::1"), .drop)
        // Established flows were checked when they began: conntrack accepts them first.
        var established = packet(from: "a", source: "10.0.0.1", to: "192.0.2.1")
        established.ctState = .established
        XCTAssertEqual(RulesetPacketWalk.verdict(ruleset, hook: .forward, packet: established), .accept)
    }

    /// An IPv4-only pod sends no IPv6 but neighbour discovery's link-local and unspecified sources.
    func testSingleStackPodMaySendNoOtherFamily() {
        let rules = RulesetRenderer.antiSpoofing([IPNet(parsing: "10.0.0.1/32")!])
        let ruleset = NFTRuleset(chains: [NFTChain(name: "in", base: NFTBaseChain(hook: .input), rules: rules)])
        func verdict(_ source: String) -> RulesetPacketWalk.Verdict {
            RulesetPacketWalk.verdict(ruleset, hook: .input, packet: NFTPacket(
                inputInterface: "x", outputInterface: "", source: IPNet(parsing: source)!,
                destination: IPNet(parsing: source.contains(":") ? "ff02::1" : "10.0.0.254")!, l4proto: 58))
        }
        XCTAssertEqual(verdict("10.0.0.1"), .accept)
        XCTAssertEqual(verdict("fd00::1"), .drop)
        XCTAssertEqual(verdict("fe80::ecee:eeff:feee:eeee"), .accept)
        XCTAssertEqual(verdict("::"), .accept)
    }

    /// Pod to pod: the source's leaf returns when its egress allowed, so the destination's
    /// ingress decides; either side denying drops.
    func testPodToPodNeedsBothLeaves() {
        let a = endpoint("a", addresses: ["10.0.0.1"], labels: ["pod": "a"])
        let b = endpoint("b", addresses: ["10.0.0.2"], labels: ["pod": "b"])
        let denyEgressA = F.policy("deny-egress-a", ns: "x", selector: "pod == 'a'", egress: [])
        let ingressB = F.policy("b-from-a", ns: "x", selector: "pod == 'b'", ingress: [F.allowFrom("pod == 'a'", ports: [.number(80)], proto: .tcp)])
        func verdict(_ policies: [Policy], from: String, _ source: String, to: String, _ destination: String, port: UInt16 = 80) -> RulesetPacketWalk.Verdict {
            let inputs = CalcInputs(nodeName: "n1", endpoints: [a.key: a, b.key: b], profiles: ["kns.x": F.namespace("x")],
                                    policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.key, $0) }))
            var p = packet(from: from, source: source, to: destination, out: iface(to))
            p.destinationPort = port
            return RulesetPacketWalk.verdict(RulesetRenderer.render(DataplaneState.compute(from: inputs)), hook: .forward, packet: p)
        }
        XCTAssertEqual(verdict([ingressB], from: "a", "10.0.0.1", to: "b", "10.0.0.2"), .accept)
        XCTAssertEqual(verdict([ingressB], from: "a", "10.0.0.1", to: "b", "10.0.0.2", port: 81), .drop, "b's ingress denies")
        XCTAssertEqual(verdict([ingressB, denyEgressA], from: "a", "10.0.0.1", to: "b", "10.0.0.2"), .drop, "a's egress denies")
        XCTAssertEqual(verdict([ingressB], from: "b", "10.0.0.2", to: "a", "10.0.0.1"), .accept, "a has no policy: profile")
        XCTAssertEqual(verdict([ingressB], from: "a", "10.0.0.2", to: "b", "10.0.0.2"), .drop, "a spoofing b")
    }

    /// The kernel re-validates the jump graph path by path: a policy chain must stay on few
    /// paths however many endpoints it applies to, and a leaf on one per hook that reaches it.
    func testPolicyChainsAreReachableOnFewPaths() {
        var endpoints: [String: WorkloadEndpoint] = [:]
        for i in 0..<40 {
            let e = endpoint("p\(i)", addresses: ["10.0.1.\(i + 1)"], labels: ["app": i % 2 == 0 ? "web" : "db"])
            endpoints[e.key] = e
        }
        let policies = [
            F.policy("all-in", ns: "x", order: 1, selector: "all()", ingress: [F.allowFrom("app == 'web'")], egress: [PolicyRule(action: .allow)]),
            F.policy("web", ns: "x", order: 2, selector: "app == 'web'", ingress: [PolicyRule(action: .pass)]),
            F.policy("db", ns: "x", order: 3, tier: "security", selector: "app == 'db'", ingress: [PolicyRule(action: .deny)]),
        ]
        let inputs = CalcInputs(nodeName: "n1", endpoints: endpoints, profiles: ["kns.x": F.namespace("x")],
                                policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.key, $0) }))
        let ruleset = RulesetRenderer.render(DataplaneState.compute(from: inputs))
        let paths = Self.pathCounts(ruleset)
        for chain in ruleset.chains.keys where chain.hasPrefix("cali-pi-") || chain.hasPrefix("cali-pri-") {
            XCTAssertEqual(paths[chain], 1, "\(chain): one jump, from cali-to-wl on the forward hook")
        }
        for chain in ruleset.chains.keys where chain.hasPrefix("cali-po-") || chain.hasPrefix("cali-pro-") {
            XCTAssertEqual(paths[chain], 2, "\(chain): from cali-from-wl on the forward and input hooks")
        }
        for e in endpoints.values {
            XCTAssertEqual(paths[RenderNames.toWorkload(e.interfaceName)], 1)
            XCTAssertEqual(paths[RenderNames.fromWorkload(e.interfaceName)], 2)
        }
        XCTAssertEqual(ruleset.maps[RenderNames.toWorkloadMap]?.elements.count, 40)
        XCTAssertEqual(ruleset.maps[RenderNames.fromWorkloadMap]?.elements.count, 40)
    }

    /// How many paths from the base chains reach each chain (jumps, gotos and verdict-map
    /// elements), as the kernel's validation walks them.
    static func pathCounts(_ ruleset: NFTRuleset) -> [String: Int] {
        var counts: [String: Int] = [:]
        func visit(_ chain: String, depth: Int) {
            counts[chain, default: 0] += 1
            guard depth < 16, let c = ruleset.chains[chain] else { return }
            for rule in c.rules {
                switch rule.verdict {
                case .jump(let t)?, .goto(let t)?: visit(t, depth: depth + 1)
                case .vmapIifname(let m)?, .vmapOifname(let m)?:
                    for v in ruleset.maps[m]?.elements.values.sorted(by: { "\($0)" < "\($1)" }) ?? [] {
                        if let t = v.target { visit(t, depth: depth + 1) }
                    }
                default: break
                }
            }
        }
        for base in ruleset.chains.values where base.base != nil { visit(base.name, depth: 0) }
        return counts
    }

    /// A pod arriving names its leaves and the maps; an address change only its own leaves
    /// (and the address sets that hold it); leaving removes its leaves.
    func testIncrementalRenderNamesLeavesOfChangedEndpointsOnly() {
        var calc = PolicyCalculator(nodeName: "n1")
        calc.apply(.profileUpdated(F.namespace("x")))
        calc.apply(.endpointUpdated(endpoint("a", addresses: ["10.0.0.1"])))
        var renderer = IncrementalRenderer()
        _ = renderer.render(calc.state)
        calc.apply(.endpointUpdated(endpoint("b", addresses: ["10.0.0.2"])))
        let arrived = renderer.render(calc.state)
        let b = iface("b"), a = iface("a")
        XCTAssertTrue(arrived.changed!.isSuperset(of: [RenderNames.toWorkload(b), RenderNames.fromWorkload(b),
                                                       RenderNames.toWorkloadMap, RenderNames.fromWorkloadMap]))
        XCTAssertFalse(arrived.changed!.contains(RenderNames.fromWorkload(a)))
        XCTAssertEqual(arrived.ruleset, RulesetRenderer.render(calc.state))

        calc.apply(.endpointUpdated(endpoint("b", addresses: ["10.0.0.3"])))
        let moved = renderer.render(calc.state)
        XCTAssertTrue(moved.changed!.contains(RenderNames.fromWorkload(b)))
        XCTAssertFalse(moved.changed!.contains(RenderNames.toWorkloadMap), "same interfaces: the maps stay")
        XCTAssertEqual(moved.ruleset.chains[RenderNames.fromWorkload(b)]?.rules.first?.matches.last,
                       .addr(.source, IPNet(parsing: "10.0.0.3")!, negated: true))

        calc.apply(.endpointRemoved(key: "x/b"))
        let left = renderer.render(calc.state)
        XCTAssertNil(left.ruleset.chains[RenderNames.fromWorkload(b)])
        XCTAssertNil(left.ruleset.maps[RenderNames.toWorkloadMap]?.elements[b])
        XCTAssertEqual(left.ruleset, RulesetRenderer.render(calc.state))
    }
}
