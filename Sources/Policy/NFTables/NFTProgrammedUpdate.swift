extension NFTProgrammedState {
    /// The state after `plan` was committed, in place (no copy of the table's state per change).
    /// `handles[i]` is the kernel's handle of `plan.addRules[i]` where known (echoed by the
    /// commit): those rules go in at their place. Chains with an added rule of unknown handle are
    /// returned for the caller to re-read (their rules here lack the new ones).
    mutating func apply(_ plan: NFTPlan, handles: [UInt64?] = []) -> Set<String> {
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
        for s in plan.addSets { self.sets[s.name] = SetState(type: s.type, interval: s.interval, counter: s.counter) }
        for m in plan.addMaps { self.maps[m] = [:] }
        for (s, keys) in plan.addSetElements { self.sets[s]?.elements.formUnion(keys) }
        for (m, entries) in plan.addMapElements { self.maps[m, default: [:]].merge(entries) { _, new in new } }
        var unknown = Set<String>()
        for (i, insert) in plan.addRules.enumerated() where i >= handles.count || handles[i] == nil {
            unknown.insert(insert.chain)
        }
        for (i, insert) in plan.addRules.enumerated() where !unknown.contains(insert.chain) {
            let rule = Rule(handle: handles[i]!, identity: insert.identity)
            guard let before = insert.beforeHandle else {
                self.chains[insert.chain, default: Chain(base: nil)].rules.append(rule)
                continue
            }
            // Inserts before the same rule come in order, so each lands right before it.
            guard let at = self.chains[insert.chain]?.rules.firstIndex(where: { $0.handle == before }) else {
                unknown.insert(insert.chain)
                continue
            }
            self.chains[insert.chain]!.rules.insert(rule, at: at)
        }
        return unknown
    }
}
