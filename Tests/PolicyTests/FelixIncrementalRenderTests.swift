import Core
import XCTest
@testable import Policy

/// The incremental renderer felix uses must produce exactly the full render, and must name every
/// chain, set and map that differs from its previous output (the differ skips the others).
final class FelixIncrementalRenderTests: XCTestCase {
    private typealias F = Fixture

    private func change(_ g: inout RNG) -> CalcChange {
        let pod = ["a", "b", "c"].randomElement(using: &g)!, ns = ["x", "y"].randomElement(using: &g)!
        let sels = ["pod == 'a'", "has(pod)", "all()", "pod != 'b'", "pcns.team == 'red'"]
        switch Int.random(in: 0..<10, using: &g) {
        case 0, 1:
            let port = UInt16.random(in: 80...81, using: &g)
            var endpoint = F.endpoint(pod, ns: ns, node: Int.random(in: 0..<4, using: &g) == 0 ? "n2" : "n1",
                                      ip: "10.1.0.\(Int.random(in: 1...5, using: &g))", labels: ["pod": pod],
                                      ports: [EndpointPort(name: "web", protocol: .tcp, port: port)])
            // Dual-stack at times: IPv6 members meet sets that exist only with IPv6 support.
            if Bool.random(using: &g) { endpoint.addresses.append(IPNet(parsing: "fd00::\(Int.random(in: 1...5, using: &g))")!) }
            return .endpointUpdated(endpoint)
        case 2:
            return .endpointRemoved(key: "\(ns)/\(pod)")
        case 3:
            return .profileUpdated(F.namespace(ns, labels: Bool.random(using: &g) ? ["team": "red"] : [:]))
        case 4...6:
            let rule = F.allowFrom(sels.randomElement(using: &g)!, ports: Bool.random(using: &g) ? [.named("web")] : [.range(22, 22)], proto: .tcp)
            return .policyUpdated(F.policy(["q1", "q2"].randomElement(using: &g)!, ns: "x", order: Double(Int.random(in: 1...2, using: &g)),
                                           selector: sels.randomElement(using: &g)!, ingress: [rule],
                                           egress: Bool.random(using: &g) ? [rule] : nil))
        case 7:
            return .policyRemoved(PolicyKey(namespace: "x", name: ["q1", "q2"].randomElement(using: &g)!))
        case 8:
            // A network set next to the pods' addresses: a host or a CIDR in the same sets.
            let net = Bool.random(using: &g) ? "10.1.0.\(Int.random(in: 6...7, using: &g))/32" : "10.1.0.8/30"
            return .networkSetUpdated(NetworkSetEntry(key: "x/ns1", namespace: "x", labels: ["pod": pod], profiles: [],
                                                      nets: [IPNet(parsing: net)!]))
        default:
            return .configUpdated(CalcConfig(endpointToHostAction: Bool.random(using: &g) ? "Drop" : "Accept", ipv6: Bool.random(using: &g)))
        }
    }

    func testIncrementalRenderEqualsFullRenderAndNamesEveryDifference() {
        var deltas = 0
        defer { XCTAssertGreaterThan(deltas, 100, "sets edited element by element") }
        for seed in 0..<30 {
            var g = RNG(state: UInt64(seed) &* 7919)
            var calc = PolicyCalculator(nodeName: "n1")
            var renderer = IncrementalRenderer()
            var previous = renderer.render(calc.state).ruleset
            for step in 0..<50 {
                let c = change(&g)
                calc.apply(c)
                let (got, changed) = renderer.render(calc.state)
                let full = RulesetRenderer.render(calc.state)
                guard got == full else {
                    return XCTFail("seed \(seed) step \(step) after \(c): incremental render differs from the full one")
                }
                if let problem = ElementDeltaCheck.problem(previous: previous, got: got, changed: changed, deltas: renderer.elementDeltas) {
                    return XCTFail("seed \(seed) step \(step) after \(c): \(problem)")
                }
                deltas += renderer.elementDeltas.count
                if let changed {
                    let names = Set(full.chains.keys).union(previous.chains.keys).filter { full.chains[$0] != previous.chains[$0] }
                        .union(Set(full.sets.keys).union(previous.sets.keys).filter { full.sets[$0] != previous.sets[$0] })
                        .union(Set(full.maps.keys).union(previous.maps.keys).filter { full.maps[$0] != previous.maps[$0] })
                    let missed = names.subtracting(changed)
                    guard missed.isEmpty else { return XCTFail("seed \(seed) step \(step) after \(c): not named as changed: \(missed.sorted())") }
                }
                previous = full
            }
        }
    }

    func testOnePolicyChangeNamesOnlyItsChains() {
        var calc = PolicyCalculator(nodeName: "n1")
        calc.apply(.profileUpdated(F.namespace("x")))
        for pod in ["a", "b"] { calc.apply(.endpointUpdated(F.endpoint(pod, ns: "x", ip: pod == "a" ? "10.1.0.1" : "10.1.0.2", labels: ["pod": pod]))) }
        calc.apply(.policyUpdated(F.policy("p", ns: "x", selector: "pod == 'a'",
                                           ingress: [F.allowFrom("pod == 'b'", ports: [.range(80, 80), .range(8080, 8080)], proto: .tcp)])))
        var renderer = IncrementalRenderer()
        XCTAssertNil(renderer.render(calc.state).changed, "the first render is a full one")
        calc.apply(.policyUpdated(F.policy("p", ns: "x", selector: "pod == 'a'",
                                           ingress: [F.allowFrom("pod == 'b'", ports: [.range(81, 81), .range(8080, 8080)], proto: .tcp)])))
        let (_, changed) = renderer.render(calc.state)
        // A port list is a value: only the rule's port set changes, the chains stay.
        let key = PolicyKey(namespace: "x", name: "p")
        let rule = try! XCTUnwrap(calc.state.policies[key]?.ingress.first)
        XCTAssertEqual(changed, [RenderNames.valueSet(owner: RenderNames.policyChain(key, ingress: true), rule: rule, field: "d-ports")])
    }
}
