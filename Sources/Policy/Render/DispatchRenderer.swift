import Core

extension RulesetRenderer {
    /// The shared evaluation chains `cali-to-wl` and `cali-from-wl` with the interface sets that
    /// guard each tier, policy and profile in them and the set of all workload interfaces (not
    /// the endpoints' own chains and the maps to them: `endpointChains`, `dispatchMaps`), and
    /// the index of its slots that lets a later membership change be applied as interface-set elements (nil when some tier or
    /// policy took more than one slot). Depends on the endpoints' plans and on the policies'
    /// order (not on what they say).
    static func dispatchIndexed(_ state: DataplaneState)
        -> (chains: [NFTChain], sets: [NFTSet], index: DispatchIndex?) {
        let ifaces = state.endpoints.keys.sorted()
        var sets = [NFTSet(name: RenderNames.workloadInterfaces, type: .ifname, elements: Set(ifaces.map { .ifname($0) }))]
        let plans = ifaces.compactMap { state.endpoints[$0] }
        // Tiers and policies merge in Calico's order (the one every endpoint's lists are in),
        // not by name: then an endpoint gaining or losing a policy moves no other's slot.
        var rank: [PolicyKey: Int] = [:]
        for (i, policy) in state.policies.values.sorted(by: Policy.appliesBefore).enumerated() { rank[policy.key] = i }
        var index: DispatchIndex? = DispatchIndex()
        let chains = [true, false].map { dispatchChain(plans, ingress: $0, rank: rank, sets: &sets, index: &index) }
        return (chains, sets, index)
    }

    /// Pure evaluation: returns with the accept mark set (allowed) or clear (denied) and leaves
    /// the verdict to the endpoint's own chain (`verdictRules`); only conntrack's verdicts are given here.
    /// First match holds: the first policy or profile that allows returns at once.
    private static func dispatchChain(_ plans: [EndpointPlan], ingress: Bool, rank: [PolicyKey: Int],
                                      sets: inout [NFTSet], index: inout DispatchIndex?) -> NFTChain {
        func members<Key>(_ name: String, _ slot: SequenceMerge.Slot<Key>) -> NFTSet {
            NFTSet(name: name, type: .ifname, elements: Set(slot.members.map { .ifname($0.member) }))
        }
        func before(_ a: PolicyKey, _ b: PolicyKey) -> Bool {
            let ra = rank[a] ?? Int.max, rb = rank[b] ?? Int.max
            return ra != rb ? ra < rb : a < b
        }
        let byIface = Dictionary(uniqueKeysWithValues: plans.map { ($0.interfaceName, $0) })
        var rules: [NFTRule] = [
            NFTRule([.ctState([.established, .related])], verdict: .accept),
            NFTRule([.ctState([.invalid])], verdict: .drop),
            NFTRule(statements: [.andMark(~RenderMarks.all)]),
        ]
        let tierSlots = SequenceMerge.merge(plans.map { ($0.interfaceName, (ingress ? $0.ingress : $0.egress).map(\.name)) },
                                            by: TierPlan.tierBefore)
        if index?.record(tiers: tierSlots, ingress: ingress, firstRule: rules.count) == false { index = nil }
        for tier in tierSlots {
            let policyLists = tier.members.map { member, position in
                (member, (ingress ? byIface[member]!.ingress : byIface[member]!.egress)[position].policies)
            }
            let slots = SequenceMerge.merge(policyLists, by: before)
            for slot in slots {
                let chain = RenderNames.policyChain(slot.key, ingress: ingress)
                let set = RenderNames.membersSet(chain: chain, occurrence: slot.occurrence)
                sets.append(members(set, slot))
                rules += policySlotRules(chain, guardedBy: set, ingress: ingress)
            }
            if index?.record(tier: tier, slots: slots, ingress: ingress, before: before) == false { index = nil }
            let set = RenderNames.tierSet(tier.key, ingress: ingress, occurrence: tier.occurrence)
            sets.append(members(set, tier))
            rules += tierEndRules(tier.key, guardedBy: set, ingress: ingress)
        }
        let profileLists = plans.map { plan in (plan.interfaceName, plan.profiles.map { RenderNames.profileChain($0, ingress: ingress) }) }
        let profileSlots = SequenceMerge.merge(profileLists)
        if index?.record(profiles: profileSlots, ingress: ingress) == false { index = nil }
        for slot in profileSlots {
            let set = RenderNames.membersSet(chain: slot.key, occurrence: slot.occurrence)
            sets.append(members(set, slot))
            rules += profileSlotRules(slot.key, guardedBy: set, ingress: ingress)
        }
        // Falling off the end returns with the accept mark clear: denied.
        return NFTChain(name: RenderNames.dispatchChain(ingress: ingress), rules: rules)
    }

    /// The two rules of a place (`DispatchIndex.Place`), as `dispatchChain` lays them.
    static func placeRules(_ place: DispatchIndex.Place, ingress: Bool) -> [NFTRule] {
        switch place {
        case .policy(_, let key):
            return policySlotRules(RenderNames.policyChain(key, ingress: ingress), guardedBy: place.set(ingress: ingress), ingress: ingress)
        case .tierEnd(let tier):
            return tierEndRules(tier, guardedBy: place.set(ingress: ingress), ingress: ingress)
        case .profile(let chain):
            return profileSlotRules(chain, guardedBy: place.set(ingress: ingress), ingress: ingress)
        }
    }

    /// A profile's slot: jump to its chain (no pass mark to heed: tiers are over), return when it allowed.
    private static func profileSlotRules(_ chain: String, guardedBy set: String, ingress: Bool) -> [NFTRule] {
        [NFTRule([guarded(set, ingress: ingress)], verdict: .jump(chain)), accepted(set)]
    }

    /// A policy's slot: jump to its chain when no earlier policy passed, return when it allowed.
    private static func policySlotRules(_ chain: String, guardedBy set: String, ingress: Bool) -> [NFTRule] {
        [NFTRule([guarded(set, ingress: ingress), notPassed], verdict: .jump(chain)), accepted(set)]
    }

    /// A tier's end: its endpoints that no policy passed are denied; the pass mark is cleared.
    /// The clearing names its tier: identical rules would be matched first to first by the
    /// differ, and a tier opening before another would rewrite the later one's.
    private static func tierEndRules(_ tier: String, guardedBy set: String, ingress: Bool) -> [NFTRule] {
        [NFTRule([guarded(set, ingress: ingress), notPassed], verdict: .return, comment: "end of tier \(tier): denied"),
         NFTRule(statements: [.andMark(~RenderMarks.pass)], comment: "end of tier \(tier): passed on")]
    }

    private static func guarded(_ set: String, ingress: Bool) -> NFTMatch { ingress ? .oifnameInSet(set) : .iifnameInSet(set) }

    private static let notPassed = NFTMatch.mark(value: 0, mask: RenderMarks.pass)

    /// The return after each jump names its slot's set: with one identity for all of them the
    /// differ matched them first to first, and a slot opening mid-chain rewrote the rest of it.
    private static func accepted(_ set: String) -> NFTRule {
        NFTRule([.mark(value: RenderMarks.accept, mask: RenderMarks.accept)], verdict: .return, comment: "allowed: \(set)")
    }
}
