import XCTest
import Core
@testable import Policy

/// One change must cost far less than a full recomputation at the scale (1,000 local
/// endpoints, 500 policies).
final class CalcScaleTests: XCTestCase {
    private typealias F = Fixture

    func testOnePolicyChangeIsCheapAtScale() {
        var inputs = CalcInputs(nodeName: "n1", profiles: ["kns.x": F.namespace("x")])
        for i in 0..<1000 {
            let e = F.endpoint("p\(i)", ip: "10.\(i / 250).\(i % 250).1", labels: ["app": "a\(i % 50)", "idx": "\(i)"])
            inputs.endpoints[e.key] = e
        }
        for i in 0..<500 {
            let p = F.policy("pol\(i)", ns: "x", order: Double(i % 7), selector: "app == 'a\(i % 50)'",
                             ingress: [F.allowFrom("app == 'a\((i + 1) % 50)'", ports: [.number(80)], proto: .tcp)])
            inputs.policies[p.key] = p
        }
        var start = ContinuousClock.now
        var calc = PolicyCalculator(inputs: inputs)
        let build = ContinuousClock.now - start
        XCTAssertEqual(calc.state.endpoints.count, 1000)

        var durations: [Duration] = []
        for i in 0..<50 {
            let p = F.policy("pol\(i)", ns: "x", order: 3, selector: "app == 'a\((i + 7) % 50)'",
                             ingress: [F.allowFrom("idx in {'\(i)', '\(i + 1)'}", ports: [.number(81)], proto: .tcp)])
            start = ContinuousClock.now
            calc.apply(.policyUpdated(p))
            durations.append(ContinuousClock.now - start)
        }
        durations.sort()
        let median = durations[durations.count / 2]
        print("calc: build 1000 endpoints x 500 policies \(build), one policy update median \(median), max \(durations.last!)")
        XCTAssertLessThan(median, .milliseconds(50))
        XCTAssertEqual(calc.state, DataplaneState.compute(from: calc.inputs))

        start = ContinuousClock.now
        let ruleset = RulesetRenderer.render(calc.state)
        print("render: \(ruleset.chains.count) chains, \(ruleset.ruleCount) rules, \(ruleset.sets.count) sets in \(ContinuousClock.now - start)")
        // Base chains (forward, input, raw prerouting), the two shared evaluation chains, one per
        // policy, two for the one profile, two per endpoint (its verdicts, two rules each).
        XCTAssertEqual(ruleset.chains.count, RulesetRenderer.baseChains(calc.state.config).count + 2 + 500 + 2 + 2 * 1000)
    }
}
