import XCTest
import Core
@testable import Policy

/// Explain and felix cannot disagree: for random clusters, policies and flows, the evaluator's
/// verdict in each direction equals what the ruleset felix renders does to the flow's first
/// packet (run through the nftables model by RulesetPacketWalk).
final class ExplainCrossCheckTests: XCTestCase {
    private typealias F = Fixture

    private let selectors = ["pod == 'a'", "pod in {'a', 'b'}", "has(pod)", "!has(pod)", "all()", "role == 'db' || pod == 'c'",
                             "pcns.team == 'blue'", "projectcalico.org/namespace == 'y'", "pod != 'a'"]
    private let protocols: [IPProtocol?] = [nil, .tcp, .udp, .icmp, .sctp, .icmpv6]

    private func pick<T>(_ xs: [T], _ rng: inout RNG) -> T { xs.randomElement(using: &rng)! }
    private func chance(_ n: Int, _ rng: inout RNG) -> Bool { Int.random(in: 0..<n, using: &rng) == 0 }

    private func randomSide(_ rng: inout RNG, proto: IPProtocol?) -> EntityMatch {
        var side = EntityMatch()
        if chance(3, &rng) { side.selector = F.sel(pick(selectors, &rng)) }
        if chance(6, &rng) { side.notSelector = F.sel(pick(selectors, &rng)) }
        if chance(6, &rng) { side.nets = [IPNet(parsing: pick(["10.0.0.0/30", "10.0.0.4/30", "10.0.0.0/24", "fd00::/64"], &rng))!] }
        if chance(8, &rng) { side.notNets = [IPNet(parsing: pick(["10.0.0.2/32", "10.0.0.0/29", "fd00::1/128"], &rng))!] }
        if chance(3, &rng) || (proto?.hasPorts == true && chance(2, &rng)) {
            side.ports = (0..<Int.random(in: 1...2, using: &rng)).map { _ in
                pick([.number(53), .number(80), .range(80, 81), .range(1000, 2000), .named("http"), .named("dns")], &rng)
            }
        }
        if chance(8, &rng) { side.notPorts = [pick([.number(81), .range(1500, 40000), .named("http"), .named("dns")], &rng)] }
        return side
    }

    private func randomRule(_ rng: inout RNG) -> PolicyRule {
        let proto = pick(protocols, &rng)
        var rule = PolicyRule(action: pick(RuleAction.allCases, &rng), protocol: proto)
        if chance(10, &rng) { rule.ipVersion = pick([4, 6], &rng) }
        if proto == nil, chance(6, &rng) { rule.notProtocol = pick([.tcp, .udp], &rng) }
        if proto == .icmp || proto == .icmpv6 {
            if chance(2, &rng) { rule.icmp = ICMPMatch(type: pick([0, 8, 128], &rng), code: chance(2, &rng) ? 0 : nil) }
            if chance(5, &rng) { rule.notICMP = ICMPMatch(type: pick([0, 8], &rng), code: chance(2, &rng) ? pick([0, 1], &rng) : nil) }
        }
        rule.source = randomSide(&rng, proto: proto)
        rule.destination = randomSide(&rng, proto: proto)
        return rule
    }

    private func randomRules(_ rng: inout RNG) -> [PolicyRule] { (0..<Int.random(in: 0...3, using: &rng)).map { _ in randomRule(&rng) } }

    private func randomInputs(_ rng: inout RNG) -> CalcInputs {
        var inputs = CalcInputs(nodeName: "n1")
        for (i, name) in ["a", "b", "c", "d", "e"].enumerated() {
            var labels: [String: String] = [:]
            if !chance(4, &rng) { labels["pod"] = pick(["a", "b", "c"], &rng) }
            if chance(3, &rng) { labels["role"] = "db" }
            var ports: [EndpointPort] = []
            if chance(2, &rng) { ports.append(EndpointPort(name: "http", protocol: .tcp, port: pick([80, 81, 82], &rng))) }
            if chance(3, &rng) { ports.append(EndpointPort(name: "dns", protocol: .udp, port: 53)) }
            var e = F.endpoint(name, ns: pick(["x", "y"], &rng), node: pick(["n1", "n2"], &rng), ip: "10.0.0.\(i + 1)",
                               labels: labels, ports: ports)
            if chance(3, &rng) { e.addresses.append(IPNet(parsing: "fd00::\(i + 1)")!) }
            inputs.endpoints[e.key] = e
        }
        inputs.profiles["kns.x"] = F.namespace("x", labels: chance(2, &rng) ? ["team": "blue"] : [:])
        var y = F.namespace("y")
        if chance(2, &rng) {
            y.ingress = randomRules(&rng)
            y.egress = randomRules(&rng)
        }
        inputs.profiles["kns.y"] = y
        if chance(2, &rng) {
            let set = NetworkSetEntry(globalNetworkSet: GlobalNetworkSet(metadata: ObjectMeta(name: "s1", labels: ["role": "db"]),
                                                                         spec: NetworkSetSpec(nets: ["10.0.0.0/30"])))
            inputs.networkSets[set.key] = set
        }
        for i in 0..<Int.random(in: 0...6, using: &rng) {
            let ingress = chance(3, &rng) ? nil : randomRules(&rng)
            let egress = chance(3, &rng) ? nil : randomRules(&rng)
            let p = F.policy("p\(i)", ns: chance(3, &rng) ? pick(["x", "y"], &rng) : nil,
                             order: chance(3, &rng) ? nil : Double(Int.random(in: 1...3, using: &rng)),
                             tier: chance(3, &rng) ? "security" : "default", selector: pick(selectors, &rng),
                             ingress: ingress, egress: egress)
            inputs.policies[p.key] = p
        }
        return inputs
    }

    private func randomFlow(_ inputs: CalcInputs, _ rng: inout RNG) -> ExplainFlow? {
        let endpoints = inputs.endpoints.values.sorted { $0.key < $1.key }  // sorted: a failure repeats
        let a = pick(endpoints, &rng), b = pick(endpoints, &rng)
        let v6 = chance(3, &rng)
        guard let sa = a.addresses.first(where: { $0.isIPv6 == v6 }), let da = b.addresses.first(where: { $0.isIPv6 == v6 }) else { return nil }
        let proto = pick([IPProtocol.tcp, .tcp, .udp, .sctp, v6 ? .icmpv6 : .icmp, .icmp], &rng)
        let isICMP = proto == .icmp || proto == .icmpv6
        return ExplainFlow(source: a.key, destination: b.key, sourceAddress: sa, destinationAddress: da, protocol: proto,
                           sourcePort: isICMP ? nil : pick([1000, 1500, 40000], &rng),
                           destinationPort: isICMP ? nil : pick([53, 80, 81, 82, 443], &rng),
                           icmpType: isICMP ? pick([0, 8, 128], &rng) : nil, icmpCode: isICMP ? pick([0, 1], &rng) : nil)
    }

    private func packet(_ flow: ExplainFlow, iif: String, oif: String) -> NFTPacket {
        NFTPacket(inputInterface: iif, outputInterface: oif, source: flow.sourceAddress, destination: flow.destinationAddress,
                  l4proto: flow.protocol.number, sourcePort: flow.sourcePort, destinationPort: flow.destinationPort,
                  icmpType: flow.icmpType, icmpCode: flow.icmpCode)
    }

    func testExplainAgreesWithTheRenderedRuleset() throws {
        var rng = RNG(state: 0x5EED_E8A1)
        var compared = 0, allowed = [0, 0], deciders: Set<ExplainStep.Kind> = []
        for scenario in 0..<400 {
            var inputs = randomInputs(&rng)
            // One in four without IPv6 support: no IPv6 rules or sets, for the walk and explain alike.
            if scenario % 4 == 3 { inputs.config.ipv6 = false }
            var states: [String: DataplaneState] = [:], rulesets: [String: NFTRuleset] = [:]
            for node in ["n1", "n2"] {
                var i = inputs
                i.nodeName = node
                states[node] = DataplaneState.compute(from: i)
                rulesets[node] = RulesetRenderer.render(states[node]!)
            }
            for _ in 0..<25 {
                guard let flow = randomFlow(inputs, &rng) else { continue }
                let src = inputs.endpoints[flow.source]!, dst = inputs.endpoints[flow.destination]!
                let r = try ExplainEvaluator.explain(flow, sourceNode: src.node, sourceState: states[src.node]!,
                                                     destinationNode: dst.node, destinationState: states[dst.node]!)
                // Egress: out of the source's veth towards another node; ingress: in from another node.
                // The whole forwarded path (prerouting's reverse-path check, then forward) with the
                // routes felix makes: an endpoint's own address is never taken for a spoofed one.
                func walk(_ node: String, _ p: NFTPacket) -> RulesetPacketWalk.Verdict {
                    RulesetPacketWalk.verdict(rulesets[node]!, path: [.prerouting, .forward], packet: p, routes: .workloads(states[node]!))
                }
                let egress = walk(src.node, packet(flow, iif: src.interfaceName, oif: "eth0"))
                let ingress = walk(dst.node, packet(flow, iif: "eth0", oif: dst.interfaceName))
                let context = "scenario \(scenario) \(flow)\negress \(r.egress.trace.map(\.text))\ningress \(r.ingress.trace.map(\.text))"
                XCTAssertEqual(r.egress.allowed, egress == .accept, context)
                XCTAssertEqual(r.ingress.allowed, ingress == .accept, context)
                if src.node == dst.node, src.key != dst.key {
                    // Same node: one forward pass through both endpoint chains.
                    let both = walk(src.node, packet(flow, iif: src.interfaceName, oif: dst.interfaceName))
                    XCTAssertEqual(r.allowed, both == .accept, context)
                }
                compared += 1
                allowed[r.allowed ? 1 : 0] += 1
                deciders.insert(r.egress.decidedBy.kind)
                deciders.insert(r.ingress.decidedBy.kind)
            }
        }
        // The random universe must exercise both verdicts and every kind of decision.
        XCTAssertGreaterThan(compared, 5000)
        XCTAssertGreaterThan(allowed[0], compared / 10)
        XCTAssertGreaterThan(allowed[1], compared / 10)
        XCTAssertEqual(deciders, [.policyRule, .profileRule, .endOfTier, .noProfileMatch])
        print("explain cross-check: \(compared) flows, \(allowed[1]) allowed, \(allowed[0]) denied")
    }

    /// The walker itself: conntrack replies pass, and a packet between two interfaces that are
    /// not workloads is not felix's business.
    func testWalkerConntrackAndForeignInterfaces() {
        let a = F.endpoint("a", ip: "10.0.0.1"), b = F.endpoint("b", ip: "10.0.0.2")
        let deny = F.policy("deny", ingress: [PolicyRule(action: .deny)])
        let state = DataplaneState.compute(from: CalcInputs(nodeName: "n1", endpoints: [a.key: a, b.key: b],
                                                            profiles: ["kns.x": F.namespace("x")], policies: [deny.key: deny]))
        let ruleset = RulesetRenderer.render(state)
        var p = NFTPacket(inputInterface: a.interfaceName, outputInterface: b.interfaceName, source: a.addresses[0],
                          destination: b.addresses[0], l4proto: 6, sourcePort: 1000, destinationPort: 80)
        XCTAssertEqual(RulesetPacketWalk.verdict(ruleset, hook: .forward, packet: p), .drop)
        p.ctState = .established
        XCTAssertEqual(RulesetPacketWalk.verdict(ruleset, hook: .forward, packet: p), .accept)
        p.ctState = .new
        p.inputInterface = "eth0"
        p.outputInterface = "eth1"
        XCTAssertEqual(RulesetPacketWalk.verdict(ruleset, hook: .forward, packet: p), .accept)
    }
}
