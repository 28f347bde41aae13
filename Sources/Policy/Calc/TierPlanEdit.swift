import Core

/// One policy put into or taken out of an endpoint's tiers in place: what `CalcSemantics.tiers`
/// gives for the endpoint's policies with that one added or removed, without sorting them all
/// again. A selector change moves a policy onto or off tens of endpoints; re-sorting each one's
/// whole list (string comparisons of every key) was most of the calculator's share of it.
enum TierPlanEdit {
    /// `tiers` with `policy` at its place in its tier (created at its rank if new), when it
    /// governs the direction. `order` gives the order of a key already in the tiers.
    static func inserting(_ policy: Policy, into tiers: [TierPlan], ingress: Bool,
                          order: (PolicyKey) -> Double?) -> [TierPlan] {
        guard ingress ? policy.types.ingress : policy.types.egress else { return tiers }
        var tiers = tiers
        guard let t = tiers.firstIndex(where: { $0.name == policy.tier }) else {
            let at = tiers.firstIndex { TierPlan.tierBefore(policy.tier, $0.name) } ?? tiers.endIndex
            tiers.insert(TierPlan(name: policy.tier, policies: [policy.key]), at: at)
            return tiers
        }
        // Binary search for the first key that applies after the policy (the order is total).
        let keys = tiers[t].policies
        var low = 0, high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if Policy.appliesBefore(order(keys[mid]), keys[mid], policy.order, policy.key) { low = mid + 1 } else { high = mid }
        }
        tiers[t].policies.insert(policy.key, at: low)
        return tiers
    }

    /// `tiers` without `key`, and without its tier when that was its last policy.
    static func removing(_ key: PolicyKey, from tiers: [TierPlan]) -> [TierPlan] {
        var tiers = tiers
        for t in tiers.indices {
            guard let i = tiers[t].policies.firstIndex(of: key) else { continue }
            tiers[t].policies.remove(at: i)
            if tiers[t].policies.isEmpty { tiers.remove(at: t) }
            return tiers
        }
        return tiers
    }
}
