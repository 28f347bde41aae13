import Core

/// The dispatch chains' policy slots, kept so that endpoints gaining or losing policies can be
/// rendered as interface-set elements instead of a rebuild of both chains and every `ep-*` set.
///
/// Recorded only when every tier and every policy took one slot, in Calico's order. Then every
/// endpoint's list is in that order (a list is a subsequence of its slots), and a merge of lists
/// that are all in one order gives the distinct keys in that order, one slot each, whoever the
/// members are. So as long as the policies' order is unchanged, and a change keeps each
/// endpoint's profiles, keeps its lists in order and empties or opens no slot (of a tier or a
/// policy), the chains stay as they are and only the changed endpoints' interfaces move between
/// `ep-*` and tier sets: what a full render would give.
struct DispatchIndex: Sendable, Equatable {
    /// Per direction, per tier: how many endpoints go through each policy's slot.
    private var ingress: [String: [PolicyKey: Int]] = [:]
    private var egress: [String: [PolicyKey: Int]] = [:]
    /// Per direction: how many endpoints go through each tier.
    private var tiers: [Bool: [String: Int]] = [:]

    /// One interface entering or leaving one `ep-*` set.
    struct Move: Equatable {
        var set: String
        var interface: String
        var add: Bool
    }

    /// Records the tier slots of one direction; false when they do not fit the index.
    mutating func record(tiers slots: [SequenceMerge.Slot<String>], ingress: Bool) -> Bool {
        guard slots.allSatisfy({ $0.occurrence == 0 }),
              zip(slots, slots.dropFirst()).allSatisfy({ RulesetRenderer.tierBefore($0.key, $1.key) }) else { return false }
        tiers[ingress] = Dictionary(uniqueKeysWithValues: slots.map { ($0.key, $0.members.count) })
        return true
    }

    /// Records one tier's policy slots; false when they do not fit the index (a repeated tier or
    /// policy, or slots out of order).
    mutating func record(tier: SequenceMerge.Slot<String>, slots: [SequenceMerge.Slot<PolicyKey>], ingress: Bool,
                         before: (PolicyKey, PolicyKey) -> Bool) -> Bool {
        guard tier.occurrence == 0, slots.allSatisfy({ $0.occurrence == 0 }),
              zip(slots, slots.dropFirst()).allSatisfy({ before($0.key, $1.key) }) else { return false }
        var counts: [PolicyKey: Int] = [:]
        counts.reserveCapacity(slots.count)
        for slot in slots { counts[slot.key] = slot.members.count }
        if ingress { self.ingress[tier.key] = counts } else { egress[tier.key] = counts }
        return true
    }

    /// The set moves that render `moved` (plans before and after, of endpoints that stayed), and
    /// the index updated; nil when the change does not fit (then render the dispatch in full).
    /// `policies` are the current ones, whose order must be the one the index was recorded in.
    mutating func moves(_ moved: [(before: EndpointPlan?, after: EndpointPlan?)], policies: [PolicyKey: Policy]) -> [Move]? {
        var moves: [Move] = []
        var delta: [Bool: [String: [PolicyKey: Int]]] = [:]
        var tierDelta: [Bool: [String: Int]] = [:]
        for (before, after) in moved {
            guard let before, let after, before.profiles == after.profiles else { return nil }
            let iface = after.interfaceName
            for direction in [true, false] {
                let old = direction ? before.ingress : before.egress, new = direction ? after.ingress : after.egress
                for (a, b) in zip(new, new.dropFirst()) where !RulesetRenderer.tierBefore(a.name, b.name) { return nil }
                let oldTiers = Dictionary(uniqueKeysWithValues: old.map { ($0.name, $0.policies) })
                let newTiers = Dictionary(uniqueKeysWithValues: new.map { ($0.name, $0.policies) })
                for tier in Set(oldTiers.keys).union(newTiers.keys) {
                    let o = oldTiers[tier], n = newTiers[tier]
                    guard o != n else { continue }
                    if (o == nil) != (n == nil) {
                        tierDelta[direction, default: [:]][tier, default: 0] += n == nil ? -1 : 1
                        moves.append(Move(set: RenderNames.tierSet(tier, ingress: direction, occurrence: 0), interface: iface, add: n != nil))
                    }
                    let newList = n ?? []
                    for (a, b) in zip(newList, newList.dropFirst()) {
                        guard let pa = policies[a], let pb = policies[b], Policy.appliesBefore(pa, pb) else { return nil }
                    }
                    let was = Set(o ?? []), now = Set(newList)
                    for (keys, add) in [(was.subtracting(now), false), (now.subtracting(was), true)] {
                        for key in keys {
                            delta[direction, default: [:]][tier, default: [:]][key, default: 0] += add ? 1 : -1
                            let chain = RenderNames.policyChain(key, ingress: direction)
                            moves.append(Move(set: RenderNames.membersSet(chain: chain, occurrence: 0), interface: iface, add: add))
                        }
                    }
                }
            }
        }
        // Every slot touched must exist and keep a member.
        var updated = self
        for (direction, changes) in tierDelta {
            for (tier, change) in changes {
                guard let count = updated.tiers[direction]?[tier], count + change > 0 else { return nil }
                updated.tiers[direction]?[tier] = count + change
            }
        }
        for (direction, tiers) in delta {
            for (tier, changes) in tiers {
                guard var counts = direction ? updated.ingress[tier] : updated.egress[tier] else { return nil }
                for (key, change) in changes {
                    guard let count = counts[key], count + change > 0 else { return nil }
                    counts[key] = count + change
                }
                if direction { updated.ingress[tier] = counts } else { updated.egress[tier] = counts }
            }
        }
        self = updated
        return moves
    }
}
