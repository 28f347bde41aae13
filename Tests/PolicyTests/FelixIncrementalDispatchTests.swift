import Core
import XCTest
@testable import Policy

/// Endpoints gaining or losing policies whose slots stay (a selector change, a pod relabelled,
/// a pod arriving or leaving) change only interface-set elements of the dispatch; policies and
/// profiles coming into force or going out of it open or close their places in place; an order
/// moving renders it anew. Whichever way, the result must be a fresh calculation's full render,
/// and every difference named.
final class FelixIncrementalDispatchTests: XCTestCase {
    private typealias F = Fixture

    private let pods = (0..<10).map { "p\($0)" }
    private let policyNames = ["g1", "g2", "g3", "g4", "g5", "g6"]

    /// Mostly selector changes of policies with a fixed order; now and then a pod arriving,
    /// leaving or relabelled, a policy deleted, an order, tier or type changed.
    private func change(_ g: inout RNG) -> CalcChange {
        let name = policyNames.randomElement(using: &g)!
        let index = policyNames.firstIndex(of: name)!
        switch Int.random(in: 0..<20, using: &g) {
        case 0...10:
            let chosen = pods.filter { _ in Bool.random(using: &g) }
            let selector = chosen.isEmpty ? "pod == 'none'" : "pod in {\(chosen.map { "'\($0)'" }.joined(separator: ", "))}"
            let moved = Int.random(in: 0..<30, using: &g) == 0
            return .policyUpdated(F.policy(name, ns: index % 2 == 0 ? "x" : nil,
                                           order: moved ? Double(Int.random(in: 0...7, using: &g)) : (index == 5 ? nil : Double(index % 3)),
                                           tier: Int.random(in: 0..<40, using: &g) == 0 ? "security" : "default", selector: selector,
                                           ingress: [F.allowFrom("pod == 'p1'", ports: [.range(80, 80)], proto: .tcp)],
                                           egress: Int.random(in: 0..<25, using: &g) == 0 ? nil : [F.allowFrom("all()", proto: .udp)]))
        case 11...14:
            let pod = pods.randomElement(using: &g)!
            var labels = ["pod": Int.random(in: 0..<4, using: &g) == 0 ? pods.randomElement(using: &g)! : pod]
            if Bool.random(using: &g) { labels["role"] = "db" }
            return .endpointUpdated(F.endpoint(pod, ns: Int.random(in: 0..<5, using: &g) == 0 ? "y" : "x",
                                               ip: "10.1.0.\(pods.firstIndex(of: pod)! + 1)", labels: labels,
                                               sa: Int.random(in: 0..<3, using: &g) == 0 ? "sa\(Int.random(in: 0..<2, using: &g))" : nil))
        case 15, 16:
            return .endpointRemoved(key: "x/\(pods.randomElement(using: &g)!)")
        case 17:
            return .policyRemoved(PolicyKey(namespace: index % 2 == 0 ? "x" : nil, name: name))
        case 18:
            let ns = ["x", "y"].randomElement(using: &g)!
            return .profileUpdated(Profile(serviceAccount: ServiceAccount(metadata: ObjectMeta(name: "sa\(Int.random(in: 0..<2, using: &g))", namespace: ns))))
        default:
            return .profileUpdated(F.namespace(["x", "y"].randomElement(using: &g)!))
        }
    }

    private func differences(_ a: NFTRuleset, _ b: NFTRuleset) -> Set<String> {
        Set(a.chains.keys).union(b.chains.keys).filter { a.chains[$0] != b.chains[$0] }
            .union(Set(a.sets.keys).union(b.sets.keys).filter { a.sets[$0] != b.sets[$0] })
            .union(Set(a.maps.keys).union(b.maps.keys).filter { a.maps[$0] != b.maps[$0] })
    }

    func testMembershipChangesRenderExactlyWhicheverPathTheyTake() {
        var elements = 0, places = 0, fulls = 0, deltas = 0
        for seed in 0..<30 {
            var g = RNG(state: UInt64(seed) &* 6_700_417 &+ 3)
            var calc = PolicyCalculator(nodeName: "n1")
            calc.apply(.profileUpdated(F.namespace("x")))
            for (i, pod) in pods.enumerated() { calc.apply(.endpointUpdated(F.endpoint(pod, ip: "10.1.0.\(i + 1)", labels: ["pod": pod]))) }
            var renderer = IncrementalRenderer()
            var previous = renderer.render(calc.state).ruleset
            for step in 0..<80 {
                var applied: [CalcChange] = []
                var keptOrder = false, endpointOnly = true
                for _ in 0..<(Int.random(in: 0..<4, using: &g) == 0 ? 2 : 1) {
                    applied.append(change(&g))
                    // A policy created, deleted, or changed in anything but its order (selector,
                    // tier, types): its places open, close or stay, in place.
                    switch applied.last! {
                    case .policyUpdated(let p): keptOrder = calc.state.policies[p.key].map { $0.order == p.order } ?? true
                    case .policyRemoved: keptOrder = true
                    default: keptOrder = false
                    }
                    switch applied.last! {
                    case .endpointUpdated, .endpointRemoved: break
                    default: endpointOnly = false
                    }
                    calc.apply(applied.last!)
                }
                let full = renderer.dispatchUpdates.full
                let (got, changed) = renderer.render(calc.state)
                if applied.count == 1, keptOrder, renderer.dispatchUpdates.full != full {
                    return XCTFail("seed \(seed) step \(step) after \(applied): a policy change keeping its order rendered the dispatch in full")
                }
                if endpointOnly, renderer.dispatchUpdates.full != full {
                    return XCTFail("seed \(seed) step \(step) after \(applied): pods arriving, leaving or relabelled rendered the dispatch in full")
                }
                let fresh = RulesetRenderer.render(PolicyCalculator(inputs: calc.inputs).state)
                guard got == fresh else {
                    return XCTFail("seed \(seed) step \(step) after \(applied): differs from a fresh full render in \(differences(got, fresh).sorted())")
                }
                let missed = differences(previous, fresh).subtracting(changed ?? [])
                guard changed == nil || missed.isEmpty else {
                    return XCTFail("seed \(seed) step \(step) after \(applied): not named as changed: \(missed.sorted())")
                }
                if let problem = ElementDeltaCheck.problem(previous: previous, got: got, changed: changed, deltas: renderer.elementDeltas) {
                    return XCTFail("seed \(seed) step \(step) after \(applied): \(problem)")
                }
                deltas += renderer.elementDeltas.count
                previous = fresh
            }
            elements += renderer.dispatchUpdates.elements
            places += renderer.dispatchUpdates.places
            fulls += renderer.dispatchUpdates.full
        }
        // Every path must have been taken (orders moving take the full one; policies appearing or
        // emptied, tiers and types moving, pods arriving in or leaving a namespace open or close
        // places).
        XCTAssertGreaterThan(elements, 500, "element-only dispatch updates \(elements), places \(places), full \(fulls)")
        XCTAssertGreaterThan(places, 200, "element-only dispatch updates \(elements), places \(places), full \(fulls)")
        XCTAssertGreaterThan(fulls, 20, "element-only dispatch updates \(elements), places \(places), full \(fulls)")
        XCTAssertGreaterThan(deltas, 500, "sets edited element by element")
    }

    /// A selector change that swaps pods between a policy's endpoints: only that policy's
    /// interface set changes (no rule, no chain), and the chains stay as they were.
    func testASelectorChangeIsOnlyInterfaceSetElements() throws {
        var calc = PolicyCalculator(nodeName: "n1")
        calc.apply(.profileUpdated(F.namespace("x")))
        for (i, pod) in ["a", "b", "c", "d"].enumerated() {
            calc.apply(.endpointUpdated(F.endpoint(pod, ip: "10.1.0.\(i + 1)", labels: ["pod": pod])))
        }
        let rule = F.allowFrom("pod == 'd'", ports: [.range(80, 80)], proto: .tcp)
        calc.apply(.policyUpdated(F.policy("p", ns: "x", order: 1, selector: "pod in {'a', 'b'}", ingress: [rule])))
        calc.apply(.policyUpdated(F.policy("o", ns: "x", order: 2, selector: "all()", ingress: [rule])))
        var renderer = IncrementalRenderer()
        let before = renderer.render(calc.state).ruleset

        calc.apply(.policyUpdated(F.policy("p", ns: "x", order: 1, selector: "pod in {'b', 'c'}", ingress: [rule])))
        let (after, changed) = renderer.render(calc.state)
        XCTAssertEqual(after, RulesetRenderer.render(calc.state))
        let chain = RenderNames.policyChain(PolicyKey(namespace: "x", name: "p"), ingress: true)
        let set = RenderNames.membersSet(chain: chain, occurrence: 0)
        XCTAssertEqual(changed, [set])
        XCTAssertEqual(renderer.dispatchUpdates.elements, 1)
        XCTAssertEqual(renderer.dispatchUpdates.full, 0)
        let iface = { (pod: String) in NFTSetElement.ifname(WorkloadEndpoint.hostInterfaceName(namespace: "x", pod: pod)) }
        XCTAssertEqual(after.sets[set]?.elements, [iface("b"), iface("c")])
        XCTAssertEqual(after.chains, before.chains, "no chain may change")
    }

    /// Slots follow the policies' order, not their names: a policy whose order moves ahead of
    /// another's is jumped to first, even when no endpoint has both.
    func testAnOrderChangeReordersTheSlots() throws {
        var calc = PolicyCalculator(nodeName: "n1")
        calc.apply(.profileUpdated(F.namespace("x")))
        calc.apply(.endpointUpdated(F.endpoint("a", ip: "10.1.0.1", labels: ["pod": "a"])))
        calc.apply(.endpointUpdated(F.endpoint("b", ip: "10.1.0.2", labels: ["pod": "b"])))
        let rule = F.allowFrom("all()", proto: .udp)
        calc.apply(.policyUpdated(F.policy("p1", ns: "x", order: 1, selector: "pod == 'a'", ingress: [rule])))
        calc.apply(.policyUpdated(F.policy("p2", ns: "x", order: 2, selector: "pod == 'b'", ingress: [rule])))
        var renderer = IncrementalRenderer()
        func jumps(_ ruleset: NFTRuleset) -> [String] {
            (ruleset.chains[RenderNames.toWorkloads]?.rules ?? []).compactMap { rule in
                if case .jump(let target) = rule.verdict, target.hasPrefix("cali-pi-") { return target }
                return nil
            }
        }
        let first = renderer.render(calc.state).ruleset
        XCTAssertEqual(jumps(first), ["cali-pi-x_p1", "cali-pi-x_p2"])
        calc.apply(.policyUpdated(F.policy("p2", ns: "x", order: 0, selector: "pod == 'b'", ingress: [rule])))
        let (moved, changed) = renderer.render(calc.state)
        XCTAssertEqual(moved, RulesetRenderer.render(calc.state))
        XCTAssertEqual(jumps(moved), ["cali-pi-x_p2", "cali-pi-x_p1"])
        XCTAssertTrue(changed?.contains(RenderNames.toWorkloads) ?? true)
    }

    /// A policy coming into force between two others opens a slot mid-chain: the plan against
    /// what was programmed adds its jump and its return there and touches no other rule of
    /// the shared chain (each return names its slot, so the differ keeps the rest in place).
    func testASlotOpeningMidChainAddsOnlyItsTwoRules() throws {
        var calc = PolicyCalculator(nodeName: "n1")
        calc.apply(.profileUpdated(F.namespace("x")))
        calc.apply(.endpointUpdated(F.endpoint("a", ip: "10.1.0.1", labels: ["pod": "a"])))
        let rule = F.allowFrom("all()", proto: .udp)
        for (name, order) in [("p1", 1.0), ("p3", 3.0), ("p4", 4.0)] {
            calc.apply(.policyUpdated(F.policy(name, ns: "x", order: order, selector: "pod == 'a'", ingress: [rule])))
        }
        calc.apply(.policyUpdated(F.policy("p2", ns: "x", order: 2, selector: "pod == 'none'", ingress: [rule])))
        let before = RulesetRenderer.render(calc.state)
        calc.apply(.policyUpdated(F.policy("p2", ns: "x", order: 2, selector: "pod == 'a'", ingress: [rule])))
        let after = RulesetRenderer.render(calc.state)
        let plan = NFTDiff.plan(from: .assuming(before), to: after)
        let shared = RenderNames.toWorkloads
        XCTAssertEqual(plan.deleteRules.filter { $0.chain == shared }, [])
        let added = plan.addRules.filter { $0.chain == shared }
        XCTAssertEqual(added.count, 2)
        XCTAssertEqual(added.first?.rule.verdict, .jump("cali-pi-x_p2"))
    }
}
