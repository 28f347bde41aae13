import Core

/// IP set membership: members (endpoints, network sets) and the sets that select them.
extension PolicyCalculator {
    /// The member as it now is in the inputs: flattened labels, whether global, what it adds.
    private func current(_ member: CalcMember) -> (labels: [String: String], isGlobal: Bool)? {
        switch member {
        case .endpoint(let key):
            guard let endpoint = inputs.endpoints[key] else { return nil }
            return (CalcSemantics.labels(endpoint, profiles: inputs.profiles).all, false)
        case .networkSet(let key):
            guard let set = inputs.networkSets[key] else { return nil }
            return (CalcSemantics.labels(set, profiles: inputs.profiles).all, set.isGlobal)
        }
    }

    private func contribution(_ id: IPSetID, of member: CalcMember) -> IPSetMembers {
        switch member {
        case .endpoint(let key):
            return inputs.endpoints[key].map { CalcSemantics.contribution(id, endpoint: $0) } ?? IPSetMembers()
        case .networkSet(let key):
            return inputs.networkSets[key].map { CalcSemantics.contribution(id, networkSet: $0) } ?? IPSetMembers()
        }
    }

    mutating func setProfiles(of member: CalcMember, old: [String], new: [String]) {
        for name in Set(old).subtracting(new) {
            membersByProfile[name]?.remove(member)
            if membersByProfile[name]?.isEmpty == true { membersByProfile[name] = nil }
        }
        for name in Set(new).subtracting(old) { membersByProfile[name, default: []].insert(member) }
    }

    /// Re-files a member under its labels and recomputes what it adds to every active set.
    mutating func refreshMember(_ member: CalcMember) {
        let oldLabels = memberLabels[member] ?? [:]
        let now = current(member)
        let newLabels = now?.labels ?? [:]
        if oldLabels != newLabels || now == nil {
            for (key, value) in oldLabels where newLabels[key] != value {
                membersByLabel[key]?[value]?.remove(member)
                if membersByLabel[key]?[value]?.isEmpty == true { membersByLabel[key]?[value] = nil }
                if membersByLabel[key]?.isEmpty == true { membersByLabel[key] = nil }
            }
            for (key, value) in newLabels where oldLabels[key] != value {
                membersByLabel[key, default: [:]][value, default: []].insert(member)
            }
            memberLabels[member] = now == nil ? nil : newLabels
        }
        var sets = Set((contributions[member] ?? [:]).keys)
        if let now { sets.formUnion(setIndex.candidates(now.labels)) }
        for id in sets { reevaluate(member, in: id, now: now) }
    }

    /// Brings one member's contribution to one set up to date.
    private mutating func reevaluate(_ member: CalcMember, in id: IPSetID, now: (labels: [String: String], isGlobal: Bool)?) {
        var wanted = IPSetMembers()
        if let now, CalcSemantics.selector(of: id).matches(labels: now.labels, isGlobal: now.isGlobal) {
            wanted = contribution(id, of: member)
        }
        let had = contributions[member]?[id] ?? IPSetMembers()
        guard had != wanted else { return }
        count(had, in: id, by: -1)
        count(wanted, in: id, by: 1)
        contributions[member, default: [:]][id] = wanted.isEmpty ? nil : wanted
        if contributions[member]?.isEmpty == true { contributions[member] = nil }
        if wanted.isEmpty { setMembers[id]?.remove(member) } else { setMembers[id, default: []].insert(member) }
    }

    private mutating func count(_ members: IPSetMembers, in id: IPSetID, by delta: Int) {
        guard !members.isEmpty else { return }
        state.journal.record {
            $0.ipSets.insert(id)
            // Selector sets hold addresses, named-port sets address-port members: anything else
            // is not journalled member by member.
            if id.isNamedPort ? !members.nets.isEmpty : !members.ports.isEmpty { $0.wholeSets.insert(id) }
        }
        for net in members.nets {
            let n = (netCounts[id]?[net] ?? 0) + delta
            netCounts[id, default: [:]][net] = n > 0 ? n : nil
            if n > 0, delta > 0, n == 1, state.ipSets[id]?.nets.insert(net).inserted == true {
                state.journal.record { $0.netDeltas[id, default: MemberDelta()].insert(net) }
            }
            if n <= 0, state.ipSets[id]?.nets.remove(net) != nil {
                state.journal.record { $0.netDeltas[id, default: MemberDelta()].remove(net) }
            }
        }
        for port in members.ports {
            let n = (portCounts[id]?[port] ?? 0) + delta
            portCounts[id, default: [:]][port] = n > 0 ? n : nil
            if n > 0, delta > 0, n == 1, state.ipSets[id]?.ports.insert(port).inserted == true {
                state.journal.record { $0.portDeltas[id, default: MemberDelta()].insert(port) }
            }
            if n <= 0, state.ipSets[id]?.ports.remove(port) != nil {
                state.journal.record { $0.portDeltas[id, default: MemberDelta()].remove(port) }
            }
        }
    }

    /// One more active rule needs these sets; a new set is filled from the members its
    /// selector can match.
    mutating func retain(_ ids: Set<IPSetID>) {
        for id in ids {
            let refs = (setRefs[id] ?? 0) + 1
            setRefs[id] = refs
            guard refs == 1 else { continue }
            let selector = CalcSemantics.selector(of: id)
            state.ipSets[id] = IPSetMembers()
            state.journal.record { $0.ipSets.insert(id); $0.wholeSets.insert(id) }
            setIndex.insert(id, selector: selector)
            let candidates = SelectorSetIndex<IPSetID>.candidateMembers(selector, byLabel: membersByLabel,
                                                               all: Set(memberLabels.keys))
            for member in candidates { reevaluate(member, in: id, now: current(member)) }
        }
    }

    /// Active rules no longer need these sets; the last release drops a set.
    mutating func release(_ ids: Set<IPSetID>) {
        for id in ids {
            let refs = (setRefs[id] ?? 0) - 1
            guard refs <= 0 else { setRefs[id] = refs; continue }
            setRefs[id] = nil
            setIndex.remove(id, selector: CalcSemantics.selector(of: id))
            for member in setMembers.removeValue(forKey: id) ?? [] {
                contributions[member]?[id] = nil
                if contributions[member]?.isEmpty == true { contributions[member] = nil }
            }
            netCounts[id] = nil
            portCounts[id] = nil
            state.ipSets[id] = nil
            state.journal.record { $0.ipSets.insert(id); $0.wholeSets.insert(id) }
        }
    }

    /// An active policy or profile now needs `new` instead of `old`: the sets in both keep
    /// their members (no release to zero and refill).
    mutating func swapSets(from old: Set<IPSetID>, to new: Set<IPSetID>) {
        guard old != new else { return }
        retain(new.subtracting(old))
        release(old.subtracting(new))
    }
}
