import Core

/// The dispatch chains' places, kept so that endpoints arriving, leaving or gaining and losing
/// policies can be rendered as interface-set elements and, when a tier, policy or profile comes
/// into force or goes out of it, as the two rules of its place, instead of a rebuild of both
/// chains and every `ep-*` set.
///
/// Recorded only when every tier, policy and profile took one slot, in their order (Calico's for
/// tiers and policies, by chain name for profiles). Then every endpoint's list is in that order
/// (a list is a subsequence of its slots), and a merge of lists that are all in one order gives
/// the distinct keys in that order, one slot each, whoever the members are. So as long as the
/// policies' order is unchanged and a change keeps each endpoint's lists in order, a full render
/// would give the chains as they are, with the places of the tiers, policies and profiles that
/// gained their first endpoint inserted at their rank and those of the ones that lost their last
/// removed, and the changed endpoints' interfaces moved between `ep-*`, tier and the interface
/// sets. A pod arriving or leaving is then set elements and its own two chains, plus a place
/// only when it is the first or last of its namespace, service account or policy.
struct DispatchIndex: Sendable, Equatable {
    /// Per direction, per tier: how many endpoints go through each policy's slot.
    private var ingress: [String: [PolicyKey: Int]] = [:]
    private var egress: [String: [PolicyKey: Int]] = [:]
    /// Per direction: how many endpoints go through each tier, and each profile chain.
    private var tiers: [Bool: [String: Int]] = [:]
    private var profiles: [Bool: [String: Int]] = [:]
    /// Per direction: the chain's places in order, two rules each from rule `firstRule` on.
    private var layout: [Bool: [Place]] = [:]
    private var firstRule: [Bool: Int] = [:]

    /// One place of a dispatch chain: a policy's slot (its jump, then the return when it
    /// allowed), a tier's end (the return of its denied endpoints, then the pass mark cleared),
    /// or, after every tier, a profile's slot (its jump, then the return when it allowed).
    enum Place: Hashable, Sendable {
        case policy(tier: String, key: PolicyKey)
        case tierEnd(String)
        case profile(chain: String)

        /// The tier a place belongs to; nil for a profile's.
        var tier: String? {
            switch self {
            case .policy(let tier, _): return tier
            case .tierEnd(let tier): return tier
            case .profile: return nil
            }
        }

        /// The interface set guarding the place.
        func set(ingress: Bool) -> String {
            switch self {
            case .policy(_, let key): return RenderNames.membersSet(chain: RenderNames.policyChain(key, ingress: ingress), occurrence: 0)
            case .tierEnd(let tier): return RenderNames.tierSet(tier, ingress: ingress, occurrence: 0)
            case .profile(let chain): return RenderNames.membersSet(chain: chain, occurrence: 0)
            }
        }
    }

    /// One interface entering or leaving one `ep-*` or tier set.
    struct Move: Equatable {
        var set: String
        var interface: String
        var add: Bool
    }

    /// A place opened (its two rules inserted at `rule` of the direction's chain, its set made
    /// empty) or closed (its two rules at `rule` removed, its set deleted). Rule indices hold
    /// when the edits are applied in the order given.
    struct Edit: Equatable {
        var ingress: Bool
        var place: Place
        var rule: Int
        var open: Bool
    }

    /// What a membership change renders as: the places' edits first, then the set moves
    /// (removals before additions: a policy moving tiers leaves and enters a set of one name).
    struct Update: Equatable {
        var edits: [Edit]
        var moves: [Move]
    }

    /// Records the tier slots of one direction, whose places start at rule `firstRule`; false
    /// when they do not fit the index.
    mutating func record(tiers slots: [SequenceMerge.Slot<String>], ingress: Bool, firstRule: Int) -> Bool {
        guard slots.allSatisfy({ $0.occurrence == 0 }),
              zip(slots, slots.dropFirst()).allSatisfy({ TierPlan.tierBefore($0.key, $1.key) }) else { return false }
        tiers[ingress] = Dictionary(uniqueKeysWithValues: slots.map { ($0.key, $0.members.count) })
        layout[ingress] = []
        self.firstRule[ingress] = firstRule
        return true
    }

    /// Records one tier's policy slots (after the tier's earlier ones); false when they do not
    /// fit the index (a repeated tier or policy, or slots out of order).
    mutating func record(tier: SequenceMerge.Slot<String>, slots: [SequenceMerge.Slot<PolicyKey>], ingress: Bool,
                         before: (PolicyKey, PolicyKey) -> Bool) -> Bool {
        guard tier.occurrence == 0, slots.allSatisfy({ $0.occurrence == 0 }),
              zip(slots, slots.dropFirst()).allSatisfy({ before($0.key, $1.key) }) else { return false }
        var counts: [PolicyKey: Int] = [:]
        counts.reserveCapacity(slots.count)
        for slot in slots { counts[slot.key] = slot.members.count }
        if ingress { self.ingress[tier.key] = counts } else { egress[tier.key] = counts }
        layout[ingress, default: []].append(contentsOf: slots.map { .policy(tier: tier.key, key: $0.key) } + [.tierEnd(tier.key)])
        return true
    }

    /// Records the profile slots of one direction (after its tiers); false when they do not fit
    /// the index (a profile in two slots, or slots out of name order).
    mutating func record(profiles slots: [SequenceMerge.Slot<String>], ingress: Bool) -> Bool {
        guard slots.allSatisfy({ $0.occurrence == 0 }), zip(slots, slots.dropFirst()).allSatisfy({ $0.key < $1.key }) else { return false }
        profiles[ingress] = Dictionary(uniqueKeysWithValues: slots.map { ($0.key, $0.members.count) })
        layout[ingress, default: []].append(contentsOf: slots.map { .profile(chain: $0.key) })
        return true
    }

    /// The edits and set moves that render `moved` (plans before and after; nil before: the
    /// endpoint arrived, nil after: it left), and the index updated in place; nil when the
    /// change does not fit (then render the dispatch in full and drop this index, which may be
    /// part-updated: copying it first, to leave it whole, cost more than the rest of an update).
    /// `policies` are the current ones, whose order must be the one the index was recorded in.
    mutating func update(_ moved: [(before: EndpointPlan?, after: EndpointPlan?)], policies: [PolicyKey: Policy]) -> Update? {
        var moves: [Move] = []
        var delta: [Bool: [String: [PolicyKey: Int]]] = [:]
        var tierDelta: [Bool: [String: Int]] = [:]
        var profileDelta: [Bool: [String: Int]] = [:]
        for (before, after) in moved {
            guard let plan = after ?? before else { continue }
            let iface = plan.interfaceName
            if (before == nil) != (after == nil) {
                // Every endpoint is in the interface set (its own chains: `IncrementalRenderer`).
                moves.append(Move(set: RenderNames.workloadInterfaces, interface: iface, add: after != nil))
            }
            for direction in [true, false] {
                if before?.profiles ?? [] != after?.profiles ?? [] {
                    let oldProfiles = (before?.profiles ?? []).map { RenderNames.profileChain($0, ingress: direction) }
                    let newProfiles = (after?.profiles ?? []).map { RenderNames.profileChain($0, ingress: direction) }
                    for (a, b) in zip(newProfiles, newProfiles.dropFirst()) where !(a < b) { return nil }
                    let was = Set(oldProfiles), now = Set(newProfiles)
                    for (chains, add) in [(was.subtracting(now), false), (now.subtracting(was), true)] {
                        for chain in chains {
                            profileDelta[direction, default: [:]][chain, default: 0] += add ? 1 : -1
                            moves.append(Move(set: Place.profile(chain: chain).set(ingress: direction), interface: iface, add: add))
                        }
                    }
                }
                let old = before.map { direction ? $0.ingress : $0.egress } ?? []
                let new = after.map { direction ? $0.ingress : $0.egress } ?? []
                for list in [old, new] {
                    for (a, b) in zip(list, list.dropFirst()) where !TierPlan.tierBefore(a.name, b.name) { return nil }
                }
                // Both lists in tier order: walk them together, a tier at a time.
                var i = 0, j = 0
                while i < old.count || j < new.count {
                    var o: [PolicyKey]?, n: [PolicyKey]?
                    if j == new.count || (i < old.count && TierPlan.tierBefore(old[i].name, new[j].name)) {
                        o = old[i].policies; i += 1
                    } else if i == old.count || TierPlan.tierBefore(new[j].name, old[i].name) {
                        n = new[j].policies; j += 1
                    } else {
                        o = old[i].policies; n = new[j].policies; i += 1; j += 1
                    }
                    let tier = n != nil ? new[j - 1].name : old[i - 1].name
                    guard o != n else { continue }
                    if (o == nil) != (n == nil) {
                        tierDelta[direction, default: [:]][tier, default: 0] += n == nil ? -1 : 1
                        moves.append(Move(set: Place.tierEnd(tier).set(ingress: direction), interface: iface, add: n != nil))
                    }
                    // The lists differ in a few policies: only the window between their common
                    // head and tail is compared, and checked for order with its two neighbours
                    // (the rest kept the order it had, as no policy's order moved: the caller
                    // renders in full when one does).
                    let oldList = o ?? [], newList = n ?? []
                    var head = 0, tail = 0
                    while head < oldList.count, head < newList.count, oldList[head] == newList[head] { head += 1 }
                    while tail < oldList.count - head, tail < newList.count - head,
                          oldList[oldList.count - 1 - tail] == newList[newList.count - 1 - tail] { tail += 1 }
                    let span = newList[max(head - 1, 0)..<min(newList.count - tail + 1, newList.count)]
                    for (a, b) in zip(span, span.dropFirst()) {
                        guard let pa = policies[a], let pb = policies[b], Policy.appliesBefore(pa.order, a, pb.order, b) else { return nil }
                    }
                    let was = Set(oldList[head..<(oldList.count - tail)]), now = Set(newList[head..<(newList.count - tail)])
                    for (keys, add) in [(was.subtracting(now), false), (now.subtracting(was), true)] {
                        for key in keys {
                            delta[direction, default: [:]][tier, default: [:]][key, default: 0] += add ? 1 : -1
                            moves.append(Move(set: Place.policy(tier: tier, key: key).set(ingress: direction), interface: iface, add: add))
                        }
                    }
                }
            }
        }
        var opened: [Bool: [Place]] = [:], closed: [Bool: [Place]] = [:]
        for (direction, changes) in tierDelta {
            for (tier, change) in changes {
                let was = tiers[direction]?[tier], count = (was ?? 0) + change
                guard count >= 0, was != nil || count > 0 else { return nil }
                if was == nil { opened[direction, default: []].append(.tierEnd(tier)) }
                if count == 0 { closed[direction, default: []].append(.tierEnd(tier)) }
                tiers[direction, default: [:]][tier] = count == 0 ? nil : count
            }
        }
        for (direction, changes) in profileDelta {
            for (chain, change) in changes {
                let was = profiles[direction]?[chain], count = (was ?? 0) + change
                guard count >= 0, was != nil || count > 0 else { return nil }
                if was == nil { opened[direction, default: []].append(.profile(chain: chain)) }
                if count == 0 { closed[direction, default: []].append(.profile(chain: chain)) }
                profiles[direction, default: [:]][chain] = count == 0 ? nil : count
            }
        }
        for (direction, tiers) in delta {
            for (tier, changes) in tiers {
                for (key, change) in changes {
                    let was = direction ? ingress[tier]?[key] : egress[tier]?[key], count = (was ?? 0) + change
                    guard count >= 0, was != nil || count > 0 else { return nil }
                    if was == nil { opened[direction, default: []].append(.policy(tier: tier, key: key)) }
                    if count == 0 { closed[direction, default: []].append(.policy(tier: tier, key: key)) }
                    // In place: the tier's counts are not copied.
                    if direction { ingress[tier, default: [:]][key] = count == 0 ? nil : count } else { egress[tier, default: [:]][key] = count == 0 ? nil : count }
                }
            }
        }
        // A tier holds its policies' slots: one closing takes them all, one opening has some.
        for direction in [true, false] {
            for case .tierEnd(let tier) in closed[direction] ?? [] {
                guard (direction ? ingress[tier] : egress[tier])?.isEmpty ?? true else { return nil }
                if direction { ingress[tier] = nil } else { egress[tier] = nil }
            }
            for case .policy(let tier, _) in opened[direction] ?? [] where tiers[direction]?[tier] == nil { return nil }
        }
        var edits: [Edit] = []
        for direction in [true, false] where opened[direction] != nil || closed[direction] != nil {
            guard var places = layout[direction], let first = firstRule[direction] else { return nil }
            layout[direction] = nil  // `places` alone holds it
            for place in closed[direction] ?? [] {
                guard let i = places.firstIndex(of: place) else { return nil }
                places.remove(at: i)
                edits.append(Edit(ingress: direction, place: place, rule: first + 2 * i, open: false))
            }
            for place in opened[direction] ?? [] {
                guard let i = Self.insertion(of: place, in: places, policies: policies) else { return nil }
                places.insert(place, at: i)
                edits.append(Edit(ingress: direction, place: place, rule: first + 2 * i, open: true))
            }
            layout[direction] = places
        }
        return Update(edits: edits, moves: moves.filter { !$0.add } + moves.filter(\.add))
    }

    /// Where `place` goes among `places` (in chain order: tiers by `TierPlan.tierBefore`, within a tier
    /// the policies in Calico's order, then its end; after the tiers the profiles by chain name):
    /// the first place that comes after it. Nil when a policy to compare with is unknown.
    private static func insertion(of place: Place, in places: [Place], policies: [PolicyKey: Policy]) -> Int? {
        var unknown = false
        func follows(_ other: Place) -> Bool {
            switch (place, other) {
            case (.profile(let a), .profile(let b)): return a < b
            case (.profile, _): return false
            case (_, .profile): return true
            default: break
            }
            guard let tier = place.tier, let otherTier = other.tier else { return false }
            guard otherTier == tier else { return TierPlan.tierBefore(tier, otherTier) }
            switch (place, other) {
            case (.policy(_, let key), .policy(_, let otherKey)):
                guard let p = policies[key], let q = policies[otherKey] else { unknown = true; return false }
                return Policy.appliesBefore(p, q)
            case (.policy, .tierEnd): return true
            default: return false
            }
        }
        var low = 0, high = places.count
        while low < high {
            let mid = (low + high) / 2
            if follows(places[mid]) { high = mid } else { low = mid + 1 }
        }
        return unknown ? nil : low
    }
}
