import Core

extension RulesetRenderer {
    /// The shared evaluation chains `cali-to-wl` and `cali-from-wl` with the interface sets that
    /// guard each tier, policy and profile in them, the set of all workload interfaces and the
    /// verdict maps to the endpoints' leaf chains (not the leaves themselves: `leafChains`).
    /// Depends only on the endpoints' plans (not on what the policies say).
    static func dispatch(_ state: DataplaneState) -> (chains: [NFTChain], sets: [NFTSet], maps: [NFTVerdictMap]) {
        let ifaces = state.endpoints.keys.sorted()
        var sets = [NFTSet(name: RenderNames.workloadInterfaces, type: .ifname, elements: Set(ifaces.map { .ifname($0) }))]
        let plans = ifaces.compactMap { state.endpoints[$0] }
        let chains = [true, false].map { dispatchChain(plans, ingress: $0, sets: &sets) }
        return (chains, sets, dispatchMaps(ifaces))
    }

    /// Pure evaluation: returns with the accept mark set (allowed) or clear (denied) and leaves
    /// the verdict to the endpoint's leaf chain; only conntrack's verdicts are given here.
    /// First match holds: the first policy or profile that allows returns at once.
    private static func dispatchChain(_ plans: [EndpointPlan], ingress: Bool, sets: inout [NFTSet]) -> NFTChain {
        func guarded(_ set: String) -> NFTMatch { ingress ? .oifnameInSet(set) : .iifnameInSet(set) }
        func members(_ name: String, _ slot: SequenceMerge.Slot<String>) -> NFTSet {
            NFTSet(name: name, type: .ifname, elements: Set(slot.members.map { .ifname($0.member) }))
        }
        let byIface = Dictionary(uniqueKeysWithValues: plans.map { ($0.interfaceName, $0) })
        let accepted = NFTRule([.mark(value: RenderMarks.accept, mask: RenderMarks.accept)], verdict: .return)
        let notPassed = NFTMatch.mark(value: 0, mask: RenderMarks.pass)
        var rules: [NFTRule] = [
            NFTRule([.ctState([.established, .related])], verdict: .accept),
            NFTRule([.ctState([.invalid])], verdict: .drop),
            NFTRule(statements: [.andMark(~RenderMarks.all)]),
        ]
        let tierSlots = SequenceMerge.merge(plans.map { ($0.interfaceName, (ingress ? $0.ingress : $0.egress).map(\.name)) })
        for tier in tierSlots {
            let policyLists = tier.members.map { member, position in
                (member, (ingress ? byIface[member]!.ingress : byIface[member]!.egress)[position].policies.map {
                    RenderNames.policyChain($0, ingress: ingress)
                })
            }
            for slot in SequenceMerge.merge(policyLists) {
                let set = RenderNames.membersSet(chain: slot.key, occurrence: slot.occurrence)
                sets.append(members(set, slot))
                rules.append(NFTRule([guarded(set), notPassed], verdict: .jump(slot.key)))
                rules.append(accepted)
            }
            let set = RenderNames.tierSet(tier.key, ingress: ingress, occurrence: tier.occurrence)
            sets.append(members(set, tier))
            rules.append(NFTRule([guarded(set), notPassed], verdict: .return, comment: "end of tier \(tier.key): denied"))
            rules.append(NFTRule(statements: [.andMark(~RenderMarks.pass)]))
        }
        let profileLists = plans.map { plan in (plan.interfaceName, plan.profiles.map { RenderNames.profileChain($0, ingress: ingress) }) }
        for slot in SequenceMerge.merge(profileLists) {
            let set = RenderNames.membersSet(chain: slot.key, occurrence: slot.occurrence)
            sets.append(members(set, slot))
            rules.append(NFTRule([guarded(set)], verdict: .jump(slot.key)))
            rules.append(accepted)
        }
        // Falling off the end returns with the accept mark clear: denied.
        return NFTChain(name: RenderNames.dispatchChain(ingress: ingress), rules: rules)
    }
}
