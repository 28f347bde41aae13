extension NFTProgrammedState {
    /// The state after `plan` was committed, in place (no copy of the table's state per change),
    /// except the rules of chains that got new rules (their handles are the kernel's): those
    /// chains are returned for the caller to re-read.
    mutating func apply(_ plan: NFTPlan) -> Set<String> {
        self.tableExists = true
        for c in plan.deleteChains { self.chains[c] = nil }
        let deleted = Set(plan.deleteRules.map(\.handle))
        if !deleted.isEmpty {
            for name in Set(plan.deleteRules.map(\.chain)) {
                self.chains[name]?.rules.removeAll { deleted.contains($0.handle) }
            }
        }
        for s in plan.deleteSets {
            self.sets[s] = nil
            self.maps[s] = nil
        }
        for (s, keys) in plan.deleteSetElements { self.sets[s]?.elements.subtract(keys) }
        for (m, keys) in plan.deleteMapElements { for k in keys { self.maps[m]?[k] = nil } }
        for c in plan.addChains { self.chains[c.name] = Chain(base: c.base) }
        for c in plan.updateChains { self.chains[c.name, default: Chain(base: nil)].base = c.base }
        for s in plan.addSets { self.sets[s.name] = SetState(type: s.type, interval: s.interval) }
        for m in plan.addMaps { self.maps[m] = [:] }
        for (s, keys) in plan.addSetElements { self.sets[s]?.elements.formUnion(keys) }
        for (m, entries) in plan.addMapElements { self.maps[m, default: [:]].merge(entries) { _, new in new } }
        return Set(plan.addRules.map(\.chain))
    }
}
