/// The differ: a pure function from (programmed, desired) to the minimal plan. Unchanged rules
/// (same identity, same relative order) stay with their handles; only what differs is touched.
public enum NFTDiff {
    /// `previous`: the ruleset last applied successfully onto `programmed`; its chains, sets and
    /// maps that are equal in `desired` are known in sync and skipped (the cheap path per event).
    /// `changed`: with `previous`, the caller's word for which chains, sets and maps may differ
    /// from it; the others are skipped without comparing them. `deltas`, with `changed`: the
    /// elements that came and went in some of the changed sets (`NFTSetDelta`), keyed alone.
    public static func plan(from programmed: NFTProgrammedState, to desired: NFTRuleset,
                            previous: NFTRuleset? = nil, changed: Set<String>? = nil,
                            deltas: [String: NFTSetDelta] = [:]) -> NFTPlan {
        func unchanged<T: Equatable>(_ name: String, _ value: T, _ before: (NFTRuleset) -> T?) -> Bool {
            guard let previous else { return false }
            if let changed { return !changed.contains(name) }
            return before(previous) == value
        }
        var plan = NFTPlan(table: desired.table, family: desired.family)
        plan.createTable = !programmed.tableExists

        // With the caller's list of changes, only the named pieces can be new, gone or redefined:
        // the scans below stay that small (an update must not cost a pass over the whole table).
        let scope: Set<String>? = previous != nil ? changed : nil
        let desiredSets = scope.map { $0.compactMap { desired.sets[$0] } } ?? Array(desired.sets.values)
        let desiredChains = scope.map { $0.compactMap { desired.chains[$0] } } ?? Array(desired.chains.values)
        let desiredMapNames = scope.map { $0.filter { desired.maps[$0] != nil } } ?? Array(desired.maps.keys)

        // Sets and maps whose definition differs are recreated, and so are the rules naming them.
        var recreatedSets = Set<String>()
        for set in desiredSets {
            if let p = programmed.sets[set.name], p.type != set.type || p.interval != set.interval || p.counter != set.counter { recreatedSets.insert(set.name) }
            if programmed.maps[set.name] != nil { recreatedSets.insert(set.name) }
        }
        for name in desiredMapNames where programmed.sets[name] != nil { recreatedSets.insert(name) }
        // Chains whose kind or hook differs are recreated (policy alone changes in place).
        var recreatedChains = Set<String>()
        for chain in desiredChains {
            guard let p = programmed.chains[chain.name] else { continue }
            if !sameHook(p.base, chain.base) { recreatedChains.insert(chain.name) }
        }

        let goneChains = scope.map { Set($0.filter { programmed.chains[$0] != nil && desired.chains[$0] == nil }) }
            ?? Set(programmed.chains.keys).subtracting(desired.chains.keys)
        plan.flushChains = (goneChains.union(recreatedChains)).sorted()
        plan.deleteChains = plan.flushChains

        let nothingRecreated = recreatedSets.isEmpty && recreatedChains.isEmpty
        // With the caller's list of changes only those are visited; everything else is in sync.
        let narrowed = nothingRecreated && previous != nil ? changed : nil
        func names(_ all: Dictionary<String, some Any>.Keys) -> [String] {
            narrowed.map { $0.filter { all.contains($0) }.sorted() } ?? all.sorted()
        }
        let chainNames = names(desired.chains.keys)

        // Rules. From nothing every desired rule is added: one array of the right size, not a
        // doubling one (~0.6 MiB of slack at a full program's peak of memory).
        if programmed.chains.isEmpty {
            plan.addRules.reserveCapacity(chainNames.reduce(0) { $0 + (desired.chains[$1]?.rules.count ?? 0) })
        }
        for chain in chainNames.compactMap({ desired.chains[$0] }) {
            if nothingRecreated, programmed.chains[chain.name] != nil, unchanged(chain.name, chain, { $0.chains[chain.name] }) { continue }
            let current = recreatedChains.contains(chain.name) ? [] : (programmed.chains[chain.name]?.rules ?? [])
            // Without recreated sets or chains no rule is forced: skip listing every kept rule's
            // references (an array per rule: ~0.1 ms over an 850-rule dispatch chain).
            let forced: (NFTRule) -> Bool = nothingRecreated ? { _ in false } : { rule in
                references(rule).contains { recreatedSets.contains($0) || recreatedChains.contains($0) }
            }
            diffRules(chain: chain.name, current: current, desired: chain.rules, forced: forced, into: &plan)
        }

        // Map elements.
        for map in names(desired.maps.keys).compactMap({ desired.maps[$0] }) {
            if nothingRecreated, programmed.maps[map.name] != nil, unchanged(map.name, map, { $0.maps[map.name] }) { continue }
            // Keyed by the interfaces the caller said came or went (a pod's two map elements),
            // not by comparing the 1,000 elements of each map.
            if nothingRecreated, scope != nil, let have = programmed.maps[map.name], let delta = deltas[map.name],
               let change = mapDelta(map, delta, programmed: have) {
                if !change.gone.isEmpty { plan.deleteMapElements[map.name] = change.gone }
                if !change.added.isEmpty { plan.addMapElements[map.name] = change.added }
                continue
            }
            let current = recreatedSets.contains(map.name) ? [:] : (programmed.maps[map.name] ?? [:])
            let stale = current.filter { key, verdict in
                map.elements[key] != verdict || verdict.target.map(recreatedChains.contains) == true
            }
            if !stale.isEmpty, !recreatedSets.contains(map.name), programmed.maps[map.name] != nil {
                plan.deleteMapElements[map.name] = stale.keys.sorted()
            }
            let missing = map.elements.filter { key, verdict in
                current[key] != verdict || stale[key] != nil
            }
            if !missing.isEmpty { plan.addMapElements[map.name] = missing }
            if programmed.maps[map.name] == nil || recreatedSets.contains(map.name) { plan.addMaps.append(map.name) }
        }

        // Set elements.
        for set in names(desired.sets.keys).compactMap({ desired.sets[$0] }) {
            if !recreatedSets.contains(set.name), programmed.sets[set.name] != nil, unchanged(set.name, set, { $0.sets[set.name] }) { continue }
            let existing = programmed.sets[set.name]
            let fresh = existing == nil || recreatedSets.contains(set.name)
            // Keyed element by element where the caller said which changed, or name by name for
            // interface sets; else the whole set below.
            let given = scope == nil ? nil : deltas[set.name]
            if !fresh, let delta = given.flatMap({ keyDelta(set, $0, programmed: existing!.elements) })
                ?? interfaceDelta(set, programmed: existing!.elements) {
                if !delta.gone.isEmpty { plan.deleteSetElements[set.name] = delta.gone }
                if !delta.added.isEmpty { plan.addSetElements[set.name] = delta.added }
                continue
            }
            let want = NFTElementCodec.keyElements(set)
            let have = fresh ? [] : existing!.elements
            var gone = have.subtracting(want).sorted(), added = want.subtracting(have).sorted()
            // (Into an empty set the keys go as they are: nothing there to overlap.)
            if set.interval, !have.isEmpty, !gone.isEmpty || !added.isEmpty { (gone, added) = intervalDelta(have: have, want: want) }
            if !gone.isEmpty { plan.deleteSetElements[set.name] = gone }
            if !added.isEmpty { plan.addSetElements[set.name] = added }
            if fresh { plan.addSets.append(set) }
        }

        let goneSets = scope.map { Set($0.filter { programmed.sets[$0] != nil && desired.sets[$0] == nil && desired.maps[$0] == nil }) }
            ?? Set(programmed.sets.keys).subtracting(desired.sets.keys).subtracting(desired.maps.keys)
        let goneMaps = scope.map { Set($0.filter { programmed.maps[$0] != nil && desired.maps[$0] == nil && desired.sets[$0] == nil }) }
            ?? Set(programmed.maps.keys).subtracting(desired.maps.keys).subtracting(desired.sets.keys)
        plan.deleteSets = goneSets.union(goneMaps).union(recreatedSets).sorted()

        // Chains.
        for chain in chainNames.compactMap({ desired.chains[$0] }) {
            if let p = programmed.chains[chain.name], !recreatedChains.contains(chain.name) {
                if p.base?.policy != chain.base?.policy { plan.updateChains.append(chain) }
            } else {
                plan.addChains.append(chain)
            }
        }
        return plan
    }

    /// The elements to delete and add for a set of interface names, keyed name by name against
    /// the kernel's keys: a pod coming or going changes one element of the sets of every
    /// workload interface, and building the whole desired key set to subtract (`keyElements`)
    /// for the five such sets of 1,000 pods cost a pod's update ~0.7 ms more (2.3 -> 3.0 ms of
    /// diff, alternating runs). Nil for other sets.
    static func interfaceDelta(_ set: NFTSet, programmed: Set<NFTKeyElement>) -> (gone: [NFTKeyElement], added: [NFTKeyElement])? {
        guard set.type == .ifname, !set.interval else { return nil }
        let key = { (e: NFTSetElement) in singleKey(e, type: .ifname) }
        var added: [NFTKeyElement] = [], present = 0
        for element in set.elements {
            guard let k = key(element) else { return nil }
            if programmed.contains(k) { present += 1 } else { added.append(k) }
        }
        var gone: [NFTKeyElement] = []
        if present < programmed.count {
            let want = Set(set.elements.compactMap(key))
            gone = programmed.filter { !want.contains($0) }
        }
        return (gone.sorted(), added.sorted())
    }

    /// An interval set's change as whole intervals: each interval that is not wanted as it is
    /// goes with both its keys, each wanted one that is not there comes with both (the same start
    /// key may go and come back). The kernel checks every key it adds against the intervals in
    /// place: an address taken out of the middle of an interval, as the two keys that split it,
    /// would be refused as an overlap with the interval still there.
    static func intervalDelta(have: Set<NFTKeyElement>, want: Set<NFTKeyElement>) -> (gone: [NFTKeyElement], added: [NFTKeyElement]) {
        let had = Set(intervals(have)), wanted = intervals(want)
        let kept = Set(wanted).intersection(had)
        let gone = had.subtracting(kept).flatMap(\.keys).sorted()
        let added = wanted.filter { !kept.contains($0) }.flatMap(\.keys)  // ascending: as the kernel checks them
        return (gone, added)
    }

    /// One interval of a set's keys: a start and the end after it (either missing in a set that
    /// reaches the top of the key space, or in one not made by us).
    struct Interval: Hashable {
        var start: NFTKeyElement?
        var end: NFTKeyElement?
        var keys: [NFTKeyElement] { [start, end].compactMap { $0 } }
    }

    /// Keys paired into intervals, in ascending order.
    static func intervals(_ keys: Set<NFTKeyElement>) -> [Interval] {
        var out: [Interval] = []
        var open: NFTKeyElement?
        for key in keys.sorted() {
            if key.intervalEnd {
                out.append(Interval(start: open, end: key))
                open = nil
            } else {
                if let open { out.append(Interval(start: open, end: nil)) }
                open = key
            }
        }
        if let open { out.append(Interval(start: open, end: nil)) }
        return out
    }

    static func sameHook(_ a: NFTBaseChain?, _ b: NFTBaseChain?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let a?, let b?): return a.type == b.type && a.hook == b.hook && a.priority == b.priority
        default: return false
        }
    }

    /// Names of sets, maps and chains a rule refers to.
    static func references(_ rule: NFTRule) -> [String] {
        var names: [String] = []
        for m in rule.matches {
            switch m {
            case .iifnameInSet(let s, _), .oifnameInSet(let s, _): names.append(s)
            case .addrInSet(_, _, let s, _), .addrPortInSet(_, _, _, let s, _): names.append(s)
            case .port(_, _, .set(let s), _): names.append(s)
            default: break
            }
        }
        switch rule.verdict {
        case .jump(let c)?, .goto(let c)?, .vmapIifname(let c)?, .vmapOifname(let c)?: names.append(c)
        default: break
        }
        return names
    }

    /// The rule edits that bring `current` to `desired`: see `diffWindow`.
    static func diffRules(chain: String, current: [NFTProgrammedState.Rule], desired: [NFTRule],
                          forced: (NFTRule) -> Bool, into plan: inout NFTPlan) {
        // Rules known by value at both ends stay as they are; only the window between is
        // matched by identity (a hash of the rule's text, ~6 us a rule: an 850-rule dispatch
        // chain with one place opened would otherwise cost 5 ms of hashing).
        var head = 0
        while head < current.count, head < desired.count, let known = current[head].known, known == desired[head], !forced(known) {
            head += 1
        }
        var tail = 0
        while tail < current.count - head, tail < desired.count - head, let known = current[current.count - 1 - tail].known,
              known == desired[desired.count - 1 - tail], !forced(known) {
            tail += 1
        }
        diffWindow(chain: chain, current: current[head..<(current.count - tail)], desired: desired[head..<(desired.count - tail)],
                   forced: forced, appendBefore: tail > 0 ? current[current.count - tail].handle : nil, into: &plan)
    }

    /// Keeps the longest run of current rules that appear, in order, among the desired ones;
    /// deletes the rest and inserts each missing rule before the next kept one (else before
    /// `appendBefore`, else at the end).
    static func diffWindow(chain: String, current: ArraySlice<NFTProgrammedState.Rule>, desired: ArraySlice<NFTRule>,
                           forced: (NFTRule) -> Bool, appendBefore: UInt64?, into plan: inout NFTPlan) {
        let current = Array(current), desired = Array(desired)
        // Match desired rules to current ones of the same identity, first to first.
        var byIdentity: [String: [Int]] = [:]
        for (i, r) in current.enumerated().reversed() {
            if let id = r.identity { byIdentity[id, default: []].append(i) }
        }
        var matched = [Int?](repeating: nil, count: desired.count)
        let identities = desired.map(\.identity)
        for (j, rule) in desired.enumerated() where !forced(rule) {
            matched[j] = byIdentity[identities[j]]?.popLast()
        }
        let kept = longestIncreasing(matched)
        var keptCurrent = Set<Int>()
        for j in kept { keptCurrent.insert(matched[j]!) }
        for (i, r) in current.enumerated() where !keptCurrent.contains(i) {
            plan.deleteRules.append(.init(chain: chain, handle: r.handle))
        }
        let keptDesired = Set(kept)
        var nextKeptHandle = appendBefore
        var inserts: [NFTPlan.RuleInsert] = []
        for j in desired.indices.reversed() {
            if keptDesired.contains(j) {
                nextKeptHandle = current[matched[j]!].handle
            } else {
                inserts.append(.init(chain: chain, rule: desired[j], beforeHandle: nextKeptHandle, identity: identities[j]))
            }
        }
        plan.addRules += inserts.reversed()
    }

    /// Indices j (ascending) of the longest subsequence of non-nil values that increases.
    static func longestIncreasing(_ values: [Int?]) -> [Int] {
        var tails: [Int] = []          // index j of the smallest tail of each length
        var previous = [Int](repeating: -1, count: values.count)
        for (j, v) in values.enumerated() {
            guard let v else { continue }
            var lo = 0, hi = tails.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if values[tails[mid]]! < v { lo = mid + 1 } else { hi = mid }
            }
            if lo > 0 { previous[j] = tails[lo - 1] }
            if lo == tails.count { tails.append(j) } else { tails[lo] = j }
        }
        var result: [Int] = []
        var j = tails.last ?? -1
        while j >= 0 {
            result.append(j)
            j = previous[j]
        }
        return result.reversed()
    }
}
