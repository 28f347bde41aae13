extension NFTProgrammedState {
    /// The state after `plan` was committed, except the rules of chains that got new rules (their
    /// handles are the kernel's): those chains are listed for the caller to re-read.
    func applying(_ plan: NFTPlan) -> (state: NFTProgrammedState, reread: Set<String>) {
        var next = self
        next.tableExists = true
        for c in plan.deleteChains { next.chains[c] = nil }
        let deleted = Set(plan.deleteRules.map(\.handle))
        if !deleted.isEmpty {
            for name in Set(plan.deleteRules.map(\.chain)) {
                next.chains[name]?.rules.removeAll { deleted.contains($0.handle) }
            }
        }
        for s in plan.deleteSets {
            next.sets[s] = nil
            next.maps[s] = nil
        }
        for (s, keys) in plan.deleteSetElements { next.sets[s]?.elements.subtract(keys) }
        for (m, keys) in plan.deleteMapElements { for k in keys { next.maps[m]?[k] = nil } }
        for c in plan.addChains { next.chains[c.name] = Chain(base: c.base) }
        for c in plan.updateChains { next.chains[c.name, default: Chain(base: nil)].base = c.base }
        for s in plan.addSets { next.sets[s.name] = SetState(type: s.type, interval: s.interval) }
        for m in plan.addMaps { next.maps[m] = [:] }
        for (s, keys) in plan.addSetElements { next.sets[s]?.elements.formUnion(keys) }
        for (m, entries) in plan.addMapElements { next.maps[m, default: [:]].merge(entries) { _, new in new } }
        return (next, Set(plan.addRules.map(\.chain)))
    }
}
