import XCTest
import Core
@testable import Policy

/// Value sets (fields with several values) are named by rule shape and ordinal, not index:
/// adding, removing or editing one rule of a policy touches only that rule and its sets. A field
/// with one value is written into its rule.
final class RenderValueSetNamingTests: XCTestCase {
    private let chain = "cali-pi-ns_p"

    private func net(_ s: String) -> IPNet { IPNet(parsing: s)! }

    private var webFromNets: PolicyRule {
        PolicyRule(action: .allow, protocol: .tcp, source: EntityMatch(nets: [net("10.0.0.0/8"), net("100.64.0.0/10")]),
                   destination: EntityMatch(ports: [.number(80), .number(8080)]))
    }
    private var dns: PolicyRule { PolicyRule(action: .allow, protocol: .udp, destination: EntityMatch(ports: [.number(53), .number(853)])) }
    private var denyNets: PolicyRule {
        PolicyRule(action: .deny, source: EntityMatch(nets: [net("192.168.0.0/16"), net("10.8.0.0/16")],
                                                      notNets: [net("192.168.1.0/24"), net("10.8.1.0/24")]))
    }
    /// A shape none of the three above has: UDP from nets to ports.
    private var syslog: PolicyRule {
        PolicyRule(action: .allow, protocol: .udp, source: EntityMatch(nets: [net("172.16.0.0/12"), net("10.9.0.0/16")]),
                   destination: EntityMatch(ports: [.number(514), .number(6514)]))
    }

    private func ruleset(_ rules: [PolicyRule]) -> NFTRuleset {
        var rs = NFTRuleset(table: RenderNames.table, family: .inet)
        for piece in RulesetRenderer.ruleChain(chain, rules, RuleRenderer()) { piece.add(to: &rs) }
        return rs
    }

    /// The plan from `old` (as programmed) to `new`, checked against the incremental contract.
    private func plan(_ old: [PolicyRule], _ new: [PolicyRule]) -> (plan: NFTPlan, old: NFTRuleset, new: NFTRuleset) {
        let before = ruleset(old), after = ruleset(new)
        return (NFTDiff.plan(from: .assuming(before), to: after), before, after)
    }

    private func valueSets(_ rs: NFTRuleset) -> Set<String> { Set(rs.sets.keys.filter { $0.hasPrefix("v-") }) }

    func testInsertingARuleAtTheTopAddsOnlyItAndItsSets() {
        let (plan, before, after) = plan([webFromNets, dns, denyNets], [syslog, webFromNets, dns, denyNets])
        let added = valueSets(after).subtracting(valueSets(before))
        XCTAssertEqual(added.count, 2, "syslog's nets and ports")
        XCTAssertTrue(valueSets(before).isSubset(of: valueSets(after)), "no existing set is renamed")
        XCTAssertEqual(plan.deleteRules, [])
        XCTAssertEqual(plan.deleteSets, [])
        XCTAssertEqual(plan.flushChains, [])
        XCTAssertTrue(plan.deleteSetElements.isEmpty, plan.summary)
        XCTAssertEqual(Set(plan.addSets.map(\.name)), added)
        XCTAssertEqual(Set(plan.addSetElements.keys), added, "elements go only into the new sets")
        XCTAssertEqual(plan.addRules.map(\.rule), after.chains[chain]!.rules.prefix(1).map { $0 }, "only the new rule, at the top")
        XCTAssertNotNil(plan.addRules.first?.beforeHandle, "inserted before the old first rule")
    }

    func testChangingOneRulesPortIsElementOnly() {
        var edited = dns
        edited.destination.ports = [.number(5353), .range(8000, 8100)]
        let (plan, before, after) = plan([webFromNets, dns, denyNets], [webFromNets, edited, denyNets])
        XCTAssertEqual(Set(after.sets.keys), Set(before.sets.keys), "every set keeps its name")
        XCTAssertEqual(after.chains, before.chains, "no rule text changes")
        XCTAssertEqual(plan.deleteRules, [])
        XCTAssertEqual(plan.addRules, [])
        XCTAssertEqual(plan.addSets, [])
        XCTAssertEqual(plan.deleteSets, [])
        let portSet = RenderNames.valueSet(owner: chain, rule: dns, field: "d-ports")
        XCTAssertEqual(Set(plan.addSetElements.keys), [portSet])
        XCTAssertEqual(Set(plan.deleteSetElements.keys), [portSet])
    }

    func testRemovingTheMiddleRuleDeletesOnlyItAndItsSets() {
        let rules = [webFromNets, syslog, denyNets]
        let (plan, before, after) = plan(rules, [webFromNets, denyNets])
        let gone = valueSets(before).subtracting(valueSets(after))
        XCTAssertEqual(gone, [RenderNames.valueSet(owner: chain, rule: syslog, field: "s4-nets"),
                              RenderNames.valueSet(owner: chain, rule: syslog, field: "d-ports")])
        XCTAssertTrue(valueSets(after).isSubset(of: valueSets(before)), "no remaining set is renamed")
        XCTAssertEqual(plan.addRules, [])
        XCTAssertEqual(plan.addSets, [])
        XCTAssertEqual(Set(plan.deleteSets), gone)
        XCTAssertTrue(plan.deleteSetElements.isEmpty && plan.addSetElements.isEmpty, plan.summary)
        let programmed = NFTProgrammedState.assuming(before)
        let syslogRule = before.chains[chain]!.rules[1]
        XCTAssertEqual(plan.deleteRules.count, 1)
        let deletedHandle = plan.deleteRules.first?.handle
        XCTAssertEqual(programmed.chains[chain]?.rules.first { $0.handle == deletedHandle }?.identity, syslogRule.identity)
    }

    /// Rules of one shape are told apart by their order among themselves; values stay out of
    /// the name, and names stay short.
    func testSameShapeRulesGetDistinctShortNames() {
        var other = webFromNets
        other.source.nets = [net("11.0.0.0/8"), net("12.0.0.0/8")]
        let rs = ruleset([webFromNets, other])
        XCTAssertEqual(valueSets(rs).count, 4)
        XCTAssertTrue(rs.sets.keys.allSatisfy { $0.utf8.count <= 18 })
        XCTAssertEqual(RenderNames.valueSet(owner: chain, rule: webFromNets, field: "d-ports"),
                       RenderNames.valueSet(owner: chain, rule: other, field: "d-ports"))
        XCTAssertNotEqual(RenderNames.valueSet(owner: chain, rule: webFromNets, field: "d-ports"),
                          RenderNames.valueSet(owner: chain, rule: dns, field: "d-ports"))
    }

    /// One value is written into the rule: no set; editing it replaces that rule alone, and a
    /// second value moves the field into a set (the rule replaced again).
    func testASingleValueIsInTheRuleAndItsEditReplacesOnlyThatRule() {
        let one = PolicyRule(action: .allow, protocol: .tcp, source: EntityMatch(nets: [net("10.0.0.0/8")], notNets: [net("10.1.0.0/16")]),
                             destination: EntityMatch(ports: [.number(80)], notPorts: [.range(81, 90)]))
        let rs = ruleset([one, dns])
        XCTAssertEqual(rs.chains[chain]?.rules.first?.matches, [.l4proto(6), .addr(.source, net("10.0.0.0/8")),
                                                                 .addr(.source, net("10.1.0.0/16"), negated: true),
                                                                 .port(.tcp, .destination, .range(81...90), negated: true),
                                                                 .port(.tcp, .destination, .eq(80))])
        XCTAssertEqual(valueSets(rs).count, 1, "dns's two ports only")
        var edited = one
        edited.destination.ports = [.number(443)]
        let (replaced, before, _) = plan([one, dns], [edited, dns])
        XCTAssertEqual(replaced.deleteRules.count, 1)
        XCTAssertEqual(replaced.addRules.count, 1)
        XCTAssertTrue(replaced.addSets.isEmpty && replaced.deleteSets.isEmpty && replaced.addSetElements.isEmpty && replaced.deleteSetElements.isEmpty,
                      replaced.summary)
        XCTAssertEqual(NFTProgrammedState.assuming(before).chains[chain]?.rules.first { $0.handle == replaced.deleteRules.first?.handle }?.identity,
                       before.chains[chain]!.rules[0].identity)
        edited.destination.ports = [.number(443), .number(8443)]
        let (toSet, _, after) = plan([one, dns], [edited, dns])
        XCTAssertEqual(toSet.addSets.map(\.name), [RenderNames.valueSet(owner: chain, rule: edited, field: "d-ports")])
        XCTAssertEqual(after.sets[toSet.addSets[0].name]?.elements, [.port(443), .port(8443)])
    }
}
