import XCTest
import Core
@testable import Policy

/// The endpoints' own chains that give the verdict after the shared evaluation chains, the
/// shared reverse-path anti-spoofing check, endpoint to host, and how few paths reach a policy
/// (with two rules per endpoint and direction for the kernel's validation to walk).
final class RenderVerdictTests: XCTestCase {
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

    /// A dual-stack pod may send from its own addresses only: the reverse-path check in
    /// prerouting drops any source whose route does not lead back through the pod's interface,
    /// though its profile allows all egress. Its own addresses pass because of its host routes.
    func testReversePathCheckDropsSpoofedSources() {
        let a = endpoint("a", addresses: ["10.0.0.1/32", "fd00::1/128"])
        let b = endpoint("b", addresses: ["10.0.0.2/32"])
        let inputs = CalcInputs(nodeName: "n1", endpoints: [a.key: a, b.key: b], profiles: ["kns.x": F.namespace("x")])
        let state = DataplaneState.compute(from: inputs)
        let ruleset = RulesetRenderer.render(state)
        var routes = NFTRoutes.workloads(state)
        routes.routes.append(NFTRoutes.Route(IPNet(parsing: "0.0.0.0/0")!, via: "eth0"))
        func verdict(_ source: String, _ destination: String, routes: NFTRoutes = routes) -> RulesetPacketWalk.Verdict {
            RulesetPacketWalk.verdict(ruleset, path: [.prerouting, .forward], packet: packet(from: "a", source: source, to: destination),
                                      routes: routes)
        }
        XCTAssertEqual(verdict("10.0.0.1", "192.0.2.1"), .accept)
        XCTAssertEqual(verdict("10.0.0.2", "192.0.2.1"), .drop, "b's address: its route leaves through b's interface")
        XCTAssertEqual(verdict("10.0.0.9", "192.0.2.1"), .drop, "no pod's: the default route leaves through eth0")
        XCTAssertEqual(verdict("fd00::1", "2001:db8::1"), .accept)
        XCTAssertEqual(verdict("fd00::2", "2001:db8::1"), .drop, "no IPv6 route at all")
        XCTAssertEqual(verdict("10.0.0.1", "192.0.2.1", routes: NFTRoutes()), .drop, "the pod's own route is what lets it through")
        // The check is in prerouting: the forward hook alone would take the spoofed packet.
        XCTAssertEqual(RulesetPacketWalk.verdict(ruleset, hook: .forward, packet: packet(from: "a", source: "10.0.0.9", to: "192.0.2.1")), .accept)
        XCTAssertEqual(RulesetPacketWalk.verdict(ruleset, hook: .prerouting, packet: packet(from: "a", source: "10.0.0.9", to: "192.0.2.1"),
                                                 routes: routes), .drop)
        // Traffic that arrives on a non-workload interface is not checked.
        let fromOutside = NFTPacket(inputInterface: "eth0", outputInterface: iface("a"), source: IPNet(parsing: "10.0.0.1")!,
                                    destination: IPNet(parsing: "10.0.0.1")!, l4proto: 6, sourcePort: 40000, destinationPort: 80)
        XCTAssertEqual(RulesetPacketWalk.verdict(ruleset, hook: .prerouting, packet: fromOutside, routes: routes), .accept)
    }

    /// An IPv4-only pod sends no IPv6 but neighbour discovery's link-local and unspecified sources.
    func testSingleStackPodMaySendNoOtherFamily() {
        let wl = NFTSet(name: RenderNames.workloadInterfaces, type: .ifname, elements: [.ifname("x")])
        let ruleset = NFTRuleset(chains: [RulesetRenderer.reversePathChain()], sets: [wl])
        let routes = NFTRoutes([NFTRoutes.Route(IPNet(parsing: "10.0.0.1/32")!, via: "x")])
        func verdict(_ source: String) -> RulesetPacketWalk.Verdict {
            RulesetPacketWalk.verdict(ruleset, hook: .prerouting, packet: NFTPacket(
                inputInterface: "x", outputInterface: "", source: IPNet(parsing: source)!,
                destination: IPNet(parsing: source.contains(":") ? "ff02::1" : "10.0.0.254")!, l4proto: 58), routes: routes)
        }
        XCTAssertEqual(verdict("10.0.0.1"), .accept)
        XCTAssertEqual(verdict("fd00::1"), .drop)
        XCTAssertEqual(verdict("fe80::ecee:eeff:feee:eeee"), .accept)
        XCTAssertEqual(verdict("::"), .accept)
    }

    /// Workload to host with the default Drop: only established and related flows get through,
    /// whatever egress allows; with Accept, egress policy decides first.
    func testEndpointToHostDropAcceptsOnlyKnownFlows() {
        let a = endpoint("a", addresses: ["10.0.0.1"], labels: ["pod": "a"])
        let denyEgress = F.policy("deny-egress", ns: "x", selector: "pod == 'a'", egress: [])
        func verdict(_ action: String, _ policies: [Policy], ct: NFTCtState) -> RulesetPacketWalk.Verdict {
            let inputs = CalcInputs(nodeName: "n1", endpoints: [a.key: a], profiles: ["kns.x": F.namespace("x")],
                                    policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.key, $0) }),
                                    config: CalcConfig(endpointToHostAction: action))
            let state = DataplaneState.compute(from: inputs)
            var p = packet(from: "a", source: "10.0.0.1", to: "10.0.0.254", out: "")
            p.ctState = ct
            return RulesetPacketWalk.verdict(RulesetRenderer.render(state), path: [.prerouting, .input], packet: p, routes: .workloads(state))
        }
        XCTAssertEqual(verdict("Drop", [], ct: .new), .drop, "the profile allows egress, the host still drops")
        XCTAssertEqual(verdict("Drop", [], ct: .established), .accept)
        XCTAssertEqual(verdict("Drop", [], ct: .related), .accept)
        XCTAssertEqual(verdict("Drop", [], ct: .invalid), .drop)
        XCTAssertEqual(verdict("Accept", [], ct: .new), .accept, "the profile allows egress")
        XCTAssertEqual(verdict("Accept", [denyEgress], ct: .new), .drop, "egress policy denies before the host accepts")
        XCTAssertEqual(verdict("Accept", [denyEgress], ct: .established), .accept)
    }

    /// Pod to pod: the source's verdict goes on when its egress allowed, so the destination's
    /// ingress decides; either side denying drops.
    func testPodToPodNeedsBothSides() {
        let a = endpoint("a", addresses: ["10.0.0.1"], labels: ["pod": "a"])
        let b = endpoint("b", addresses: ["10.0.0.2"], labels: ["pod": "b"])
        let denyEgressA = F.policy("deny-egress-a", ns: "x", selector: "pod == 'a'", egress: [])
        let ingressB = F.policy("b-from-a", ns: "x", selector: "pod == 'b'", ingress: [F.allowFrom("pod == 'a'", ports: [.number(80)], proto: .tcp)])
        func verdict(_ policies: [Policy], from: String, _ source: String, to: String, _ destination: String, port: UInt16 = 80) -> RulesetPacketWalk.Verdict {
            let inputs = CalcInputs(nodeName: "n1", endpoints: [a.key: a, b.key: b], profiles: ["kns.x": F.namespace("x")],
                                    policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.key, $0) }))
            var p = packet(from: from, source: source, to: destination, out: iface(to))
            p.destinationPort = port
            let state = DataplaneState.compute(from: inputs)
            return RulesetPacketWalk.verdict(RulesetRenderer.render(state), path: [.prerouting, .forward], packet: p, routes: .workloads(state))
        }
        XCTAssertEqual(verdict([ingressB], from: "a", "10.0.0.1", to: "b", "10.0.0.2"), .accept)
        XCTAssertEqual(verdict([ingressB], from: "a", "10.0.0.1", to: "b", "10.0.0.2", port: 81), .drop, "b's ingress denies")
        XCTAssertEqual(verdict([ingressB, denyEgressA], from: "a", "10.0.0.1", to: "b", "10.0.0.2"), .drop, "a's egress denies")
        XCTAssertEqual(verdict([ingressB], from: "b", "10.0.0.2", to: "a", "10.0.0.1"), .accept, "a has no policy: profile")
        XCTAssertEqual(verdict([ingressB], from: "a", "10.0.0.2", to: "b", "10.0.0.2"), .drop, "a spoofing b")
    }

    /// A workload interface felix does not know yet (a pod's veth made before felix has the
    /// pod) is dropped both ways and to the host, whatever the action; other interfaces pass.
    func testUnknownWorkloadInterfaceIsDropped() {
        let a = endpoint("a", addresses: ["10.0.0.1"], labels: ["pod": "a"])
        for action in ["Drop", "Accept"] {
            let inputs = CalcInputs(nodeName: "n1", endpoints: [a.key: a], profiles: ["kns.x": F.namespace("x")],
                                    config: CalcConfig(endpointToHostAction: action))
            let state = DataplaneState.compute(from: inputs)
            let ruleset = RulesetRenderer.render(state)
            func verdict(_ from: String, _ to: String, hook: NFTHook = .forward, ct: NFTCtState = .new) -> RulesetPacketWalk.Verdict {
                var p = NFTPacket(inputInterface: from, outputInterface: to, source: IPNet(parsing: "10.0.0.9")!,
                                  destination: IPNet(parsing: "10.0.0.1")!, l4proto: 6, sourcePort: 40000, destinationPort: 80)
                p.ctState = ct
                return RulesetPacketWalk.verdict(ruleset, hook: hook, packet: p)
            }
            XCTAssertEqual(verdict("calinew0000001", "eth0"), .drop, "from an unknown workload interface")
            XCTAssertEqual(verdict("calinew0000001", "eth0", ct: .established), .drop, "even a flow conntrack knows")
            XCTAssertEqual(verdict("eth0", "calinew0000001"), .drop, "to an unknown workload interface")
            XCTAssertEqual(verdict("calinew0000001", "", hook: .input), .drop, "\(action): to the host")
            XCTAssertEqual(verdict("eth0", "eth1"), .accept, "not a workload interface")
            XCTAssertEqual(verdict("eth0", iface("a")), .accept, "a known one: its profile allows")
        }
        // Another prefix (felix's InterfacePrefix) is the one matched.
        var inputs = CalcInputs(nodeName: "n1", endpoints: [a.key: a], profiles: ["kns.x": F.namespace("x")])
        inputs.config = CalcConfig(interfacePrefix: "tap")
        let tap = RulesetRenderer.render(DataplaneState.compute(from: inputs))
        let p = NFTPacket(inputInterface: "tap0", outputInterface: "eth0", source: IPNet(parsing: "10.0.0.9")!,
                          destination: IPNet(parsing: "192.0.2.1")!, l4proto: 6, sourcePort: 40000, destinationPort: 80)
        XCTAssertEqual(RulesetPacketWalk.verdict(tap, hook: .forward, packet: p), .drop)
        inputs.config = CalcConfig(interfacePrefix: "")
        XCTAssertEqual(RulesetPacketWalk.verdict(RulesetRenderer.render(DataplaneState.compute(from: inputs)), hook: .forward, packet: p), .accept,
                       "no prefix: no rule that would match every interface")
    }

    /// The kernel walks every rule reachable from a base chain at each validating commit: a
    /// policy chain must stay on few paths however many endpoints it applies to, and an
    /// endpoint's own chains are reached once each and jump nowhere.
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
            XCTAssertEqual(paths[chain], 1, "\(chain): from cali-from-wl on the forward hook (endpoint to host Drop evaluates nothing)")
        }
        for e in endpoints.values {
            let own = ruleset.chains.keys.filter { $0.contains(e.interfaceName) }.sorted()
            XCTAssertEqual(own, [RenderNames.fromWorkload(e.interfaceName), RenderNames.toWorkload(e.interfaceName)])
            for chain in own {
                XCTAssertEqual(paths[chain], 1, "\(chain): from its dispatch map on the forward hook")
                XCTAssertEqual(ruleset.chains[chain]!.rules.count, 2)
                XCTAssertTrue(ruleset.chains[chain]!.rules.allSatisfy { $0.verdict?.target == nil }, "\(chain) jumps nowhere")
            }
        }
        XCTAssertEqual(paths[RenderNames.rawPreroutingChain], 1)
        XCTAssertTrue(ruleset.chains[RenderNames.rawPreroutingChain]!.rules.allSatisfy { $0.verdict == .drop }, "prerouting jumps nowhere")
        // Endpoint to host Accept: egress runs on the input hook too, so the egress side is on two paths.
        var accepting = inputs
        accepting.config = CalcConfig(endpointToHostAction: "Accept")
        let acceptPaths = Self.pathCounts(RulesetRenderer.render(DataplaneState.compute(from: accepting)))
        XCTAssertEqual(acceptPaths["cali-po-x_all-in"], 2)
        XCTAssertEqual(acceptPaths[RenderNames.fromWorkload(iface("p0"))], 2, "and its endpoints' fw chains")
        XCTAssertEqual(acceptPaths[RenderNames.toWorkload(iface("p0"))], 1)
        for ingress in [true, false] { XCTAssertEqual(ruleset.maps[RenderNames.dispatchMap(ingress: ingress)]?.elements.count, 40) }
        // The rules the base chains reach outside the policies do not grow with the endpoints.
        var fewer = inputs
        fewer.endpoints = fewer.endpoints.filter { $0.value.addresses.first!.addressText.hasSuffix(".1") }
        let small = RulesetRenderer.render(DataplaneState.compute(from: fewer))
        for name in [RenderNames.forwardChain, RenderNames.inputChain, RenderNames.rawPreroutingChain] {
            XCTAssertEqual(small.chains[name], ruleset.chains[name], name)
        }
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

    /// A pod arriving names the interface set it joins, its two chains and the two maps to them;
    /// an address change none of them (only the address sets that hold it); leaving removes them.
    func testIncrementalRenderNamesInterfaceSetsOfChangedEndpointsOnly() {
        var calc = PolicyCalculator(nodeName: "n1")
        calc.apply(.profileUpdated(F.namespace("x")))
        calc.apply(.endpointUpdated(endpoint("a", addresses: ["10.0.0.1"])))
        var renderer = IncrementalRenderer()
        _ = renderer.render(calc.state)
        let chainsBefore = Set(renderer.ruleset.chains.keys)
        calc.apply(.endpointUpdated(endpoint("b", addresses: ["10.0.0.2"])))
        let arrived = renderer.render(calc.state)
        let b = iface("b")
        let own = [true, false].flatMap { [RenderNames.endpointChain(b, ingress: $0), RenderNames.dispatchMap(ingress: $0)] }
        XCTAssertTrue(arrived.changed!.isSuperset(of: own + [RenderNames.workloadInterfaces]))
        XCTAssertEqual(Set(arrived.ruleset.chains.keys).subtracting(chainsBefore),
                       [RenderNames.toWorkload(b), RenderNames.fromWorkload(b)], "a pod brings its two chains")
        for ingress in [true, false] {
            XCTAssertEqual(arrived.ruleset.maps[RenderNames.dispatchMap(ingress: ingress)]?.elements[b], .jump(RenderNames.endpointChain(b, ingress: ingress)))
        }
        XCTAssertEqual(arrived.ruleset, RulesetRenderer.render(calc.state))

        calc.apply(.endpointUpdated(endpoint("b", addresses: ["10.0.0.3"])))
        let moved = renderer.render(calc.state)
        XCTAssertTrue(moved.changed!.isDisjoint(with: own + [RenderNames.workloadInterfaces]), "same interface: its chains and elements stay")
        XCTAssertEqual(moved.ruleset, RulesetRenderer.render(calc.state))

        calc.apply(.endpointRemoved(key: "x/b"))
        let left = renderer.render(calc.state)
        XCTAssertEqual(Set(left.ruleset.chains.keys), chainsBefore)
        for ingress in [true, false] { XCTAssertNil(left.ruleset.maps[RenderNames.dispatchMap(ingress: ingress)]?.elements[b]) }
        XCTAssertEqual(left.ruleset, RulesetRenderer.render(calc.state))
    }
}
