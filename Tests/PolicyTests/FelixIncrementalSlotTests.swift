import Core
import XCTest
@testable import Policy

/// Tiers and policies coming into force on local endpoints (created, a selector reaching its
/// first endpoint, a new tier) or going out of it (deleted, the last endpoint leaving) open or
/// close their place in the dispatch chains in place: two rules and a set, no full render, and
/// the result is exactly a fresh calculation's full render.
final class FelixIncrementalSlotTests: XCTestCase {
    private typealias F = Fixture

    private let pods = (0..<8).map { "p\($0)" }
    private let policyNames = (0..<9).map { "s\($0)" }
    private let tiers = ["default", "security", "aaa"]

    /// A policy's fixed order (never moved here: an order change renders in full by design).
    private func order(_ name: String) -> Double? {
        let i = policyNames.firstIndex(of: name)!
        return i % 4 == 3 ? nil : Double(i % 3)
    }

    /// Policies created, deleted, moved between tiers, changing types, and selectors reaching
    /// none, one or a few pods; pods relabelled (same namespace: same profiles).
    private func change(_ g: inout RNG) -> CalcChange {
        let name = policyNames.randomElement(using: &g)!
        let ns: String? = policyNames.firstIndex(of: name)! % 2 == 0 ? "x" : nil
        switch Int.random(in: 0..<10, using: &g) {
        case 0...5:
            let chosen = pods.filter { _ in Int.random(in: 0..<4, using: &g) == 0 }
            let selector = chosen.isEmpty ? "pod == 'none'" : "pod in {\(chosen.map { "'\($0)'" }.joined(separator: ", "))}"
            let types = Int.random(in: 0..<3, using: &g)
            return .policyUpdated(F.policy(name, ns: ns, order: order(name), tier: tiers.randomElement(using: &g)!, selector: selector,
                                           ingress: types == 1 ? nil : [F.allowFrom("pod == 'p1'", ports: [.range(80, 80)], proto: .tcp)],
                                           egress: types == 0 ? nil : [F.allowFrom("all()", proto: .udp)]))
        case 6, 7:
            return .policyRemoved(PolicyKey(namespace: ns, name: name))
        default:
            let pod = pods.randomElement(using: &g)!
            return .endpointUpdated(F.endpoint(pod, ip: "10.1.0.\(pods.firstIndex(of: pod)! + 1)",
                                               labels: ["pod": Int.random(in: 0..<3, using: &g) == 0 ? pods.randomElement(using: &g)! : pod]))
        }
    }

    private func differences(_ a: NFTRuleset, _ b: NFTRuleset) -> Set<String> {
        Set(a.chains.keys).union(b.chains.keys).filter { a.chains[$0] != b.chains[$0] }
            .union(Set(a.sets.keys).union(b.sets.keys).filter { a.sets[$0] != b.sets[$0] })
            .union(Set(a.maps.keys).union(b.maps.keys).filter { a.maps[$0] != b.maps[$0] })
    }

    private func calculator() -> PolicyCalculator {
        var calc = PolicyCalculator(nodeName: "n1")
        calc.apply(.profileUpdated(F.namespace("x")))
        for (i, pod) in pods.enumerated() { calc.apply(.endpointUpdated(F.endpoint(pod, ip: "10.1.0.\(i + 1)", labels: ["pod": pod]))) }
        return calc
    }

    func testOpeningAndClosingPlacesRenderExactlyWithoutAFullRender() {
        var places = 0, elements = 0
        for seed in 0..<40 {
            var g = RNG(state: UInt64(seed) &* 9_100_003 &+ 11)
            var calc = calculator()
            var renderer = IncrementalRenderer()
            var previous = renderer.render(calc.state).ruleset
            for step in 0..<100 {
                let applied = (0..<(Int.random(in: 0..<3, using: &g) == 0 ? 3 : 1)).map { _ in change(&g) }
                for c in applied { calc.apply(c) }
                let (got, changed) = renderer.render(calc.state)
                let fresh = RulesetRenderer.render(PolicyCalculator(inputs: calc.inputs).state)
                guard got == fresh else {
                    return XCTFail("seed \(seed) step \(step) after \(applied): differs from a fresh full render in \(differences(got, fresh).sorted())")
                }
                let missed = differences(previous, fresh).subtracting(changed ?? [])
                guard changed != nil, missed.isEmpty else {
                    return XCTFail("seed \(seed) step \(step) after \(applied): not named as changed: \(missed.sorted())")
                }
                guard renderer.dispatchUpdates.full == 0 else {
                    return XCTFail("seed \(seed) step \(step) after \(applied): the dispatch was rendered in full")
                }
                previous = fresh
            }
            places += renderer.dispatchUpdates.places
            elements += renderer.dispatchUpdates.elements
        }
        XCTAssertGreaterThan(places, 1_500, "updates opening or closing places \(places), element-only \(elements)")
        XCTAssertGreaterThan(elements, 150, "updates opening or closing places \(places), element-only \(elements)")
    }

    /// Renders `before`, applies `change` and renders again: the plan from the first ruleset
    /// to the second, which must be the full render, reached without rendering the dispatch anew.
    private func planOf(_ calc: inout PolicyCalculator, _ change: CalcChange,
                        file: StaticString = #filePath, line: UInt = #line) -> NFTPlan {
        var renderer = IncrementalRenderer()
        let before = renderer.render(calc.state).ruleset
        calc.apply(change)
        let after = renderer.render(calc.state).ruleset
        XCTAssertEqual(after, RulesetRenderer.render(calc.state), file: file, line: line)
        XCTAssertEqual(renderer.dispatchUpdates.full, 0, "rendered the dispatch in full", file: file, line: line)
        XCTAssertEqual(renderer.dispatchUpdates.places, 1, file: file, line: line)
        return NFTDiff.plan(from: .assuming(before), to: after)
    }

    private let rule = Fixture.allowFrom("all()", proto: .udp)

    private func withPolicies(_ orders: [(String, Double)], selector: String = "pod == 'p0'") -> PolicyCalculator {
        var calc = calculator()
        for (name, order) in orders { calc.apply(.policyUpdated(F.policy(name, ns: "x", order: order, selector: selector, ingress: [rule]))) }
        return calc
    }

    func testACreatedPolicyAddsItsTwoRulesAndItsSet() throws {
        var calc = withPolicies([("a", 1), ("c", 3)])
        let plan = planOf(&calc, .policyUpdated(F.policy("b", ns: "x", order: 2, selector: "pod in {'p0', 'p1'}", ingress: [rule])))
        let shared = RenderNames.toWorkloads
        XCTAssertEqual(plan.deleteRules.filter { $0.chain == shared }, [])
        XCTAssertEqual(plan.addRules.filter { $0.chain == shared }.map(\.rule.verdict), [.jump("cali-pi-x_b"), .return])
        XCTAssertEqual(plan.addSets.map(\.name).filter { $0.hasPrefix("ep-") }, ["ep-cali-pi-x_b"])
        XCTAssertEqual(plan.deleteSets, [])
    }

    func testADeletedPolicyRemovesItsTwoRulesAndItsSet() throws {
        var calc = withPolicies([("a", 1), ("b", 2), ("c", 3)])
        let plan = planOf(&calc, .policyRemoved(PolicyKey(namespace: "x", name: "b")))
        let shared = RenderNames.toWorkloads
        XCTAssertEqual(plan.deleteRules.filter { $0.chain == shared }.count, 2)
        XCTAssertEqual(plan.addRules.filter { $0.chain == shared }, [])
        XCTAssertEqual(plan.deleteSets, ["ep-cali-pi-x_b"])
    }

    func testASelectorLosingItsLastEndpointClosesItsPlace() throws {
        var calc = withPolicies([("a", 1), ("b", 2), ("c", 3)])
        let plan = planOf(&calc, .policyUpdated(F.policy("b", ns: "x", order: 2, selector: "pod == 'none'", ingress: [rule])))
        XCTAssertEqual(plan.deleteRules.filter { $0.chain == RenderNames.toWorkloads }.count, 2)
        XCTAssertEqual(plan.deleteSets, ["ep-cali-pi-x_b"])
    }

    /// A policy in a tier no endpoint had: its slot and the tier's end, before `default`.
    func testAPolicyInANewTierOpensTheTier() throws {
        var calc = withPolicies([("a", 1)])
        let plan = planOf(&calc, .policyUpdated(F.policy("t", ns: "x", order: 5, tier: "security", selector: "pod == 'p2'", ingress: [rule])))
        let shared = RenderNames.toWorkloads
        XCTAssertEqual(plan.deleteRules.filter { $0.chain == shared }, [])
        let added = plan.addRules.filter { $0.chain == shared }
        XCTAssertEqual(added.map(\.rule.verdict), [.jump("cali-pi-x_t"), .return, .return, nil], "the slot and the tier's end")
        XCTAssertEqual(Set(plan.addSets.map(\.name)).isSuperset(of: ["ep-cali-pi-x_t", "tier-in-security"]), true)
        let after = RulesetRenderer.render(calc.state).chains[shared]!.rules
        let jumps = after.compactMap { if case .jump(let target)? = $0.verdict { return target } else { return nil } }
        XCTAssertEqual(jumps.prefix(2), ["cali-pi-x_t", "cali-pi-x_a"], "security's tier runs before default")
    }
}
