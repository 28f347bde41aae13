import Core
import XCTest
@testable import Policy

/// The calculator's journal lets the incremental renderer visit only what changed. Whatever the
/// path (journal, full comparison, full render), the result must be a fresh calculation's state
/// and its full render, and the renderer must name every piece that differs.
final class FelixIncrementalJournalTests: XCTestCase {
    private typealias F = Fixture

    private func change(_ g: inout RNG) -> CalcChange {
        let pod = ["a", "b", "c", "d"].randomElement(using: &g)!, ns = ["x", "y"].randomElement(using: &g)!
        let sels = ["pod == 'a'", "pod in {'a', 'b'}", "has(pod)", "all()", "pod != 'b'", "pcns.team == 'red'", "role == 'db' || pod == 'c'"]
        switch Int.random(in: 0..<12, using: &g) {
        case 0...2:
            var labels = ["pod": pod]
            if Bool.random(using: &g) { labels["role"] = "db" }
            let port = UInt16.random(in: 80...81, using: &g)
            return .endpointUpdated(F.endpoint(pod, ns: ns, node: Int.random(in: 0..<4, using: &g) == 0 ? "n2" : "n1",
                                               ip: "10.1.0.\(Int.random(in: 1...5, using: &g))", labels: labels,
                                               ports: [EndpointPort(name: "web", protocol: .tcp, port: port)]))
        case 3:
            return .endpointRemoved(key: "\(ns)/\(pod)")
        case 4:
            return .profileUpdated(F.namespace(ns, labels: Bool.random(using: &g) ? ["team": "red"] : [:]))
        case 5...8:
            // Same policies again and again: values, rules, selectors, and their place (tier,
            // order, types) change independently.
            let rule = F.allowFrom(sels.randomElement(using: &g)!, ports: Bool.random(using: &g) ? [.named("web")] : [.range(22, 23)],
                                   proto: .tcp)
            var rules = [rule]
            if Bool.random(using: &g) { rules.insert(F.allowFrom("all()", ports: [.range(9, 9)], proto: .udp), at: 0) }
            return .policyUpdated(F.policy(["q1", "q2", "q3"].randomElement(using: &g)!, ns: "x",
                                           order: Bool.random(using: &g) ? Double(Int.random(in: 1...2, using: &g)) : nil,
                                           tier: Int.random(in: 0..<4, using: &g) == 0 ? "security" : "default",
                                           selector: sels.randomElement(using: &g)!,
                                           ingress: Int.random(in: 0..<4, using: &g) == 0 ? nil : rules,
                                           egress: Bool.random(using: &g) ? rules : nil))
        case 9:
            return .policyRemoved(PolicyKey(namespace: "x", name: ["q1", "q2", "q3"].randomElement(using: &g)!))
        case 10:
            let name = ["s1", "s2"].randomElement(using: &g)!
            if Bool.random(using: &g) { return .networkSetRemoved(key: name) }
            return .networkSetUpdated(NetworkSetEntry(globalNetworkSet: GlobalNetworkSet(
                metadata: ObjectMeta(name: name, labels: Bool.random(using: &g) ? ["pod": "a"] : ["role": "db"]),
                spec: NetworkSetSpec(nets: ["192.168.\(Int.random(in: 0...2, using: &g)).0/24"]))))
        default:
            return .configUpdated(CalcConfig(endpointToHostAction: Int.random(in: 0..<4, using: &g) == 0 ? "Accept" : "Drop"))
        }
    }

    /// Differences between two rulesets, by name.
    private func differences(_ a: NFTRuleset, _ b: NFTRuleset) -> Set<String> {
        Set(a.chains.keys).union(b.chains.keys).filter { a.chains[$0] != b.chains[$0] }
            .union(Set(a.sets.keys).union(b.sets.keys).filter { a.sets[$0] != b.sets[$0] })
            .union(Set(a.maps.keys).union(b.maps.keys).filter { a.maps[$0] != b.maps[$0] })
    }

    /// Renders `state` and checks it against a full render and against what was rendered before.
    private func check(_ renderer: inout IncrementalRenderer, _ state: DataplaneState, previous: inout NFTRuleset,
                       _ context: @autoclosure () -> String) -> Bool {
        let (got, changed) = renderer.render(state)
        let full = RulesetRenderer.render(state)
        guard got == full else {
            XCTFail("\(context()): incremental render differs from the full one in \(differences(got, full).sorted())")
            return false
        }
        if let changed {
            let missed = differences(previous, full).subtracting(changed)
            guard missed.isEmpty else {
                XCTFail("\(context()): not named as changed: \(missed.sorted())")
                return false
            }
        }
        previous = full
        return true
    }

    func testRandomSequencesEqualAFreshCalculationAndItsFullRender() {
        for seed in 0..<40 {
            var g = RNG(state: UInt64(seed) &* 104_729 &+ 1)
            var calc = PolicyCalculator(nodeName: "n1")
            var renderer = IncrementalRenderer()
            var previous = NFTRuleset(table: RenderNames.table, family: .inet)
            for step in 0..<60 {
                // Sometimes several changes between two renders (the daemon batches bursts).
                var applied: [CalcChange] = []
                for _ in 0..<Int.random(in: 1...3, using: &g) {
                    applied.append(change(&g))
                    calc.apply(applied.last!)
                }
                let fresh = PolicyCalculator(inputs: calc.inputs).state
                guard calc.state == fresh, calc.state == DataplaneState.compute(from: calc.inputs) else {
                    return XCTFail("seed \(seed) step \(step) after \(applied): the calculator differs from a fresh calculation")
                }
                guard check(&renderer, calc.state, previous: &previous, "seed \(seed) step \(step) after \(applied)") else { return }
            }
        }
    }

    /// Copies of one calculator that went separate ways, states made without a calculator, and a
    /// renderer further behind than the journal keeps: all rendered by one renderer, in turn.
    func testForkedCalculatorsForeignStatesAndLongGapsRenderExactly() {
        for seed in 0..<15 {
            var g = RNG(state: UInt64(seed) &+ 77)
            var a = PolicyCalculator(nodeName: "n1")
            for _ in 0..<20 { a.apply(change(&g)) }
            var renderer = IncrementalRenderer()
            var previous = NFTRuleset(table: RenderNames.table, family: .inet)
            guard check(&renderer, a.state, previous: &previous, "seed \(seed) first") else { return }
            var b = a
            for round in 0..<10 {
                a.apply(change(&g))
                b.apply(change(&g))
                b.apply(change(&g))
                guard check(&renderer, a.state, previous: &previous, "seed \(seed) round \(round) a"),
                      check(&renderer, b.state, previous: &previous, "seed \(seed) round \(round) b"),
                      check(&renderer, a.state, previous: &previous, "seed \(seed) round \(round) a again"),
                      check(&renderer, DataplaneState.compute(from: b.inputs), previous: &previous, "seed \(seed) round \(round) computed b"),
                      check(&renderer, b.state, previous: &previous, "seed \(seed) round \(round) b again")
                else { return }
            }
            for _ in 0..<(2 * DataplaneJournal.limit + 5) { a.apply(change(&g)) }
            guard check(&renderer, a.state, previous: &previous, "seed \(seed) after a long gap") else { return }
        }
    }

    /// A rule edit of a policy that keeps its tier, order, types and endpoints touches that
    /// policy alone: no endpoint plan is rebuilt, so neither the dispatch chains.
    func testARuleEditJournalsThePolicyAlone() throws {
        var calc = PolicyCalculator(nodeName: "n1")
        calc.apply(.profileUpdated(F.namespace("x")))
        for (i, pod) in ["a", "b", "c"].enumerated() {
            calc.apply(.endpointUpdated(F.endpoint(pod, ns: "x", ip: "10.1.0.\(i + 1)", labels: ["pod": pod])))
        }
        let p = F.policy("p", ns: "x", order: 5, selector: "pod in {'a', 'b'}", ingress: [F.allowFrom("pod == 'c'", ports: [.range(80, 80)], proto: .tcp)])
        calc.apply(.policyUpdated(p))
        calc.apply(.policyUpdated(F.policy("o", ns: "x", order: 3, ingress: [F.allowFrom("all()", proto: .udp)])))
        let before = try XCTUnwrap(calc.state.journal.latest)

        var edited = p
        edited.ingress.append(F.allowFrom("all()", ports: [.range(443, 443)], proto: .tcp))
        calc.apply(.policyUpdated(edited))
        let changes = try XCTUnwrap(calc.state.journal.changes(since: before))
        XCTAssertEqual(changes.policies, [p.key])
        XCTAssertEqual(changes.endpoints, [], "a rule edit must not rebuild endpoint plans")
        XCTAssertEqual(changes.ipSets, [], "the new rule's selector set was in use already")

        let afterEdit = try XCTUnwrap(calc.state.journal.latest)
        edited.order = 1
        calc.apply(.policyUpdated(edited))
        let moved = try XCTUnwrap(calc.state.journal.changes(since: afterEdit))
        XCTAssertEqual(moved.endpoints.count, 2, "a new order re-plans the endpoints the policy applies to (p now before o)")
        XCTAssertNil(calc.state.journal.changes(since: 12345), "an unknown revision: compare in full")
    }
}
