import Core

/// `RulesetRenderer.render` one change at a time: keeps the last state and its ruleset, and
/// re-renders only the endpoints, policies, profiles and IP sets that differ, naming the chains,
/// sets and maps that may have changed so the differ can skip the rest.
///
/// Invariant (tested): `render(s).ruleset == RulesetRenderer.render(s)` for any sequence of states.
public struct IncrementalRenderer: Sendable {
    public private(set) var ruleset = NFTRuleset(table: RenderNames.table, family: .inet)
    private var last: DataplaneState?

    public init() {}

    /// The ruleset for `state`, and the names of the chains, sets and maps that differ from the
    /// previous call's ruleset (nil: treat everything as changed).
    public mutating func render(_ state: DataplaneState) -> (ruleset: NFTRuleset, changed: Set<String>?) {
        guard let old = last, old.config == state.config else {
            ruleset = RulesetRenderer.render(state)
            last = state
            return (ruleset, nil)
        }
        var changed = Set<String>()
        let rules = RuleRenderer(state: state)

        // IP sets first: a named port resolving to other ports changes the rules that use it.
        var namedPortsMoved = false
        for id in Set(old.ipSets.keys).union(state.ipSets.keys) {
            let before = old.ipSets[id], after = state.ipSets[id]
            guard before != after else { continue }
            if id.isNamedPort, Set(before?.ports.map(\.port) ?? []) != Set(after?.ports.map(\.port) ?? []) { namedPortsMoved = true }
            for set in before.map({ RulesetRenderer.ipSets(id, $0) }) ?? [] {
                ruleset.sets[set.name] = nil
                changed.insert(set.name)
            }
            for set in after.map({ RulesetRenderer.ipSets(id, $0) }) ?? [] {
                ruleset.add(set)
                changed.insert(set.name)
            }
        }

        var endpointKeysChanged = false
        for iface in Set(old.endpoints.keys).union(state.endpoints.keys) {
            let before = old.endpoints[iface], after = state.endpoints[iface]
            guard before != after else { continue }
            if (before == nil) != (after == nil) { endpointKeysChanged = true }
            for name in [RenderNames.toWorkload(iface), RenderNames.fromWorkload(iface)] {
                ruleset.chains[name] = nil
                changed.insert(name)
            }
            if let after {
                ruleset.add(RulesetRenderer.endpointChain(after, ingress: true))
                ruleset.add(RulesetRenderer.endpointChain(after, ingress: false))
            }
        }
        if endpointKeysChanged {
            RulesetRenderer.addInterfaceDispatch(state.endpoints.keys.sorted(), to: &ruleset)
            changed.formUnion([RenderNames.workloadInterfaces, RenderNames.fromWorkloadMap, RenderNames.toWorkloadMap])
        }

        for key in Set(old.policies.keys).union(state.policies.keys) {
            let before = old.policies[key], after = state.policies[key]
            guard namedPortsMoved || before != after else { continue }
            for ingress in [true, false] {
                let name = RenderNames.policyChain(key, ingress: ingress)
                ruleset.chains[name] = nil
                changed.insert(name)
            }
            if let after {
                if after.types.ingress { ruleset.add(RulesetRenderer.ruleChain(RenderNames.policyChain(key, ingress: true), after.ingress, rules)) }
                if after.types.egress { ruleset.add(RulesetRenderer.ruleChain(RenderNames.policyChain(key, ingress: false), after.egress, rules)) }
            }
        }
        for name in Set(old.profiles.keys).union(state.profiles.keys) {
            let before = old.profiles[name], after = state.profiles[name]
            guard namedPortsMoved || before != after else { continue }
            for ingress in [true, false] {
                let chain = RenderNames.profileChain(name, ingress: ingress)
                ruleset.chains[chain] = nil
                changed.insert(chain)
            }
            if let after {
                ruleset.add(RulesetRenderer.ruleChain(RenderNames.profileChain(name, ingress: true), after.ingress, rules))
                ruleset.add(RulesetRenderer.ruleChain(RenderNames.profileChain(name, ingress: false), after.egress, rules))
            }
        }
        last = state
        return (ruleset, changed)
    }
}
