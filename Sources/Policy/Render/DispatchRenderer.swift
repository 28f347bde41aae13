import Core

extension RulesetRenderer {
    /// The shared dispatch chains `cali-to-wl` and `cali-from-wl` with the interface sets that
    /// guard each tier, policy and profile in them, and the set of all workload interfaces.
    /// Depends only on the endpoints' plans (not on what the policies say).
    static func dispatch(_ state: DataplaneState) -> (chains: [NFTChain], sets: [NFTSet]) {
        let ifaces = state.endpoints.keys.sorted()
        var sets = [NFTSet(name: RenderNames.workloadInterfaces, type: .ifname, elements: Set(ifaces.map { .ifname($0) }))]
        let plans = ifaces.compactMap { state.endpoints[$0] }
        let chains = [true, false].map { dispatchChain(plans, ingress: $0, sets: &sets) }
        return (chains, sets)
    }

    private static func dispatchChain(_ plans: [EndpointPlan], ingress: Bool, sets: inout [NFTSet]) -> NFTChain {
        let allowed: NFTVerdict = ingress ? .accept : .return
        func guarded(_ set: String) -> NFTMatch { ingress ? .oifnameInSet(set) : .iifnameInSet(set) }
        func members(_ name: String, _ slot: SequenceMerge.Slot<String>) -> NFTSet {
            NFTSet(name: name, type: .ifname, elements: Set(slot.members.map { .ifname($0.member) }))
        }
        let byIface = Dictionary(uniqueKeysWithValues: plans.map { ($0.interfaceName, $0) })
        let accepted = NFTRule([.mark(value: RenderMarks.accept, mask: RenderMarks.accept)], verdict: allowed)
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
            rules.append(NFTRule([guarded(set), notPassed], verdict: .drop, comment: "end of tier \(tier.key)"))
            rules.append(NFTRule(statements: [.andMark(~RenderMarks.pass)]))
        }
        let profileLists = plans.map { plan in (plan.interfaceName, plan.profiles.map { RenderNames.profileChain($0, ingress: ingress) }) }
        for slot in SequenceMerge.merge(profileLists) {
            let set = RenderNames.membersSet(chain: slot.key, occurrence: slot.occurrence)
            sets.append(members(set, slot))
            rules.append(NFTRule([guarded(set)], verdict: .jump(slot.key)))
            rules.append(accepted)
        }
        rules.append(NFTRule(verdict: .drop, comment: "no policy or profile allowed it"))
        return NFTChain(name: RenderNames.dispatchChain(ingress: ingress), rules: rules)
    }
}
