import Core

/// Keeps the desired dataplane state up to date one change at a time. The cost of a change is
/// proportional to what it touches: an endpoint's labels are checked only against the IP sets
/// and policies the selector indexes name for them, a policy only against the local endpoints
/// its selector's label restrictions allow (none when only its rules or place changed), a new
/// IP set only against the members its selector's label restrictions allow. What changed in
/// `state` is journalled for the incremental renderer (`DataplaneJournal`).
///
/// Invariant (tested): after any sequence of `apply`, `state == DataplaneState.compute(from: inputs)`.
public struct PolicyCalculator: Sendable {
    public internal(set) var inputs: CalcInputs
    public internal(set) var state: DataplaneState

    // Members (endpoints and network sets): flattened labels and the reverse indexes.
    var memberLabels: [CalcMember: [String: String]] = [:]
    var membersByLabel: [String: [String: Set<CalcMember>]] = [:]
    var membersByProfile: [String: Set<CalcMember>] = [:]
    // IP sets: reference counts from active policies/profiles, the selector index, and who
    // contributed what (members may overlap, so each address is counted).
    var setRefs: [IPSetID: Int] = [:]
    var setIndex = SelectorSetIndex<IPSetID>()
    var contributions: [CalcMember: [IPSetID: IPSetMembers]] = [:]
    var setMembers: [IPSetID: Set<CalcMember>] = [:]
    var netCounts: [IPSetID: [IPNet: Int]] = [:]
    var portCounts: [IPSetID: [IPPortMember: Int]] = [:]
    // Local endpoints: which policies apply, and the plans by endpoint key.
    var endpointPolicies: [String: Set<PolicyKey>] = [:]
    /// Every policy in the inputs by its selector, so an endpoint is checked against the
    /// policies that might select it, not all of them.
    var policyIndex = SelectorSetIndex<PolicyKey>()
    var policyEndpoints: [PolicyKey: Set<String>] = [:]
    var plans: [String: EndpointPlan] = [:]
    var profileUsers: [String: Int] = [:]

    public init(nodeName: String, config: CalcConfig = CalcConfig()) {
        inputs = CalcInputs(nodeName: nodeName, config: config)
        state = DataplaneState(config: config)
    }

    /// A calculator holding `inputs`, built by applying each as a change.
    public init(inputs: CalcInputs) {
        self.init(nodeName: inputs.nodeName, config: inputs.config)
        for profile in inputs.profiles.values { apply(.profileUpdated(profile)) }
        for set in inputs.networkSets.values { apply(.networkSetUpdated(set)) }
        for policy in inputs.policies.values { apply(.policyUpdated(policy)) }
        for endpoint in inputs.endpoints.values { apply(.endpointUpdated(endpoint)) }
    }

    public mutating func apply(_ change: CalcChange) {
        state.journal.close()
        switch change {
        case .endpointUpdated(let endpoint):
            endpointChanged(key: endpoint.key, to: endpoint)
        case .endpointRemoved(let key):
            endpointChanged(key: key, to: nil)
        case .networkSetUpdated(let set):
            networkSetChanged(key: set.key, to: set)
        case .networkSetRemoved(let key):
            networkSetChanged(key: key, to: nil)
        case .profileUpdated(let profile):
            profileChanged(name: profile.name, to: profile)
        case .profileRemoved(let name):
            profileChanged(name: name, to: nil)
        case .policyUpdated(let policy):
            policyChanged(key: policy.key, to: policy)
        case .policyRemoved(let key):
            policyChanged(key: key, to: nil)
        case .configUpdated(let config):
            inputs.config = config
            state.config = config
            state.journal.record { $0.config = true }
        }
    }

    public mutating func apply(_ changes: some Sequence<CalcChange>) {
        for change in changes { apply(change) }
    }

    // MARK: Changes

    private mutating func endpointChanged(key: String, to endpoint: WorkloadEndpoint?) {
        let old = inputs.endpoints[key]
        guard old != endpoint else { return }
        inputs.endpoints[key] = endpoint
        let member = CalcMember.endpoint(key)
        setProfiles(of: member, old: old?.profiles ?? [], new: endpoint?.profiles ?? [])
        refreshMember(member)
        refreshLocalEndpoint(key)
    }

    private mutating func networkSetChanged(key: String, to set: NetworkSetEntry?) {
        let old = inputs.networkSets[key]
        guard old != set else { return }
        inputs.networkSets[key] = set
        let member = CalcMember.networkSet(key)
        setProfiles(of: member, old: old?.profiles ?? [], new: set?.profiles ?? [])
        refreshMember(member)
    }

    private mutating func profileChanged(name: String, to profile: Profile?) {
        let old = inputs.profiles[name]
        guard old != profile else { return }
        inputs.profiles[name] = profile
        if let active = state.profiles[name], let profile, active != profile {
            // Swap the rules in place while endpoints use it.
            swapSets(from: CalcSemantics.requiredSets(active), to: CalcSemantics.requiredSets(profile))
            state.profiles[name] = profile
            state.journal.record { $0.profiles.insert(name) }
        }
        let users = membersByProfile[name] ?? []
        if old?.labels != profile?.labels {
            for member in users { refreshMember(member) }
        }
        for case .endpoint(let key) in users { refreshLocalEndpoint(key) }
    }

    private mutating func policyChanged(key: PolicyKey, to policy: Policy?) {
        let previous = inputs.policies[key]
        guard previous != policy else { return }
        inputs.policies[key] = policy
        if previous?.selector != policy?.selector {
            if let previous { policyIndex.remove(key, selector: previous.selector) }
            if let policy { policyIndex.insert(key, selector: policy.selector) }
        }
        let before = policyEndpoints[key] ?? []
        var after: Set<String> = []
        if let previous, let policy, Self.governs(previous) == Self.governs(policy), previous.selector == policy.selector {
            // Rules or place edited: the same endpoints (their labels did not change).
            after = before
        } else if let policy {
            // Only the local endpoints the selector's label restrictions allow, not all of them.
            for endpointKey in localCandidates(policy.selector) {
                if let labels = localLabels(endpointKey), CalcSemantics.applies(policy, to: labels) { after.insert(endpointKey) }
            }
        }
        let gained = after.subtracting(before), lost = before.subtracting(after)
        for endpointKey in lost { endpointPolicies[endpointKey]?.remove(key) }
        for endpointKey in gained { endpointPolicies[endpointKey, default: []].insert(key) }
        policyEndpoints[key] = after.isEmpty ? nil : after

        let active = state.policies[key]
        switch (active, after.isEmpty ? nil : policy) {
        case let (old?, new?) where old != new:
            swapSets(from: CalcSemantics.requiredSets(old), to: CalcSemantics.requiredSets(new))
            state.policies[key] = new
            state.journal.record { $0.policies.insert(key) }
        case (nil, let new?):
            retain(CalcSemantics.requiredSets(new))
            state.policies[key] = new
            state.journal.record { $0.policies.insert(key) }
        case (let old?, nil):
            release(CalcSemantics.requiredSets(old))
            state.policies[key] = nil
            state.journal.record { $0.policies.insert(key) }
        default:
            break
        }
        // A plan lists its policies' keys by tier and order: the endpoints that kept the policy
        // need a new one only when its place moved.
        // The endpoints it moved onto or off: that one key inserted or removed in their plans.
        for endpointKey in lost { replan(endpointKey, removing: key) }
        if let policy { for endpointKey in gained { replan(endpointKey, inserting: policy) } }
        if let previous, let policy, Self.placement(previous) != Self.placement(policy) {
            for endpointKey in before.intersection(after) { replan(endpointKey) }
        }
    }

    /// Whether a policy governs any direction (one that governs none applies to no endpoint).
    private static func governs(_ policy: Policy) -> Bool { policy.types.ingress || policy.types.egress }

    /// What of a policy an endpoint's plan depends on, besides its key.
    private static func placement(_ policy: Policy) -> Placement {
        Placement(tier: policy.tier, order: policy.order, types: policy.types)
    }

    private struct Placement: Equatable {
        var tier: String
        var order: Double?
        var types: PolicyTypes
    }

    /// The local endpoints that `selector` may match (a superset of those it matches), from the
    /// member label index when the selector requires some label.
    private func localCandidates(_ selector: SelectorExpr) -> [String] {
        guard let members = SelectorSetIndex<PolicyKey>.restrictedMembers(selector, byLabel: membersByLabel) else { return Array(plans.keys) }
        var out: [String] = []
        for case .endpoint(let key) in members where plans.index(forKey: key) != nil { out.append(key) }
        return out
    }

    // MARK: Local endpoints

    private func localLabels(_ key: String) -> MemberLabels? {
        memberLabels[.endpoint(key)].map { MemberLabels(own: $0, inherited: []) }
    }

    /// Re-evaluates the policies that might select one endpoint (after its labels or locality changed).
    private mutating func refreshLocalEndpoint(_ key: String) {
        var matched: Set<PolicyKey> = []
        if let endpoint = inputs.endpoints[key], endpoint.node == inputs.nodeName, let labels = localLabels(key) {
            for policyKey in policyIndex.candidates(labels.own) {
                if let policy = inputs.policies[policyKey], CalcSemantics.applies(policy, to: labels) { matched.insert(policyKey) }
            }
        }
        let before = endpointPolicies[key] ?? []
        endpointPolicies[key] = matched.isEmpty ? nil : matched
        for policyKey in before.subtracting(matched) {
            policyEndpoints[policyKey]?.remove(key)
            if policyEndpoints[policyKey]?.isEmpty == true {
                policyEndpoints[policyKey] = nil
                if let old = state.policies.removeValue(forKey: policyKey) {
                    release(CalcSemantics.requiredSets(old))
                    state.journal.record { $0.policies.insert(policyKey) }
                }
            }
        }
        for policyKey in matched.subtracting(before) {
            policyEndpoints[policyKey, default: []].insert(key)
            if state.policies[policyKey] == nil, let policy = inputs.policies[policyKey] {
                retain(CalcSemantics.requiredSets(policy))
                state.policies[policyKey] = policy
                state.journal.record { $0.policies.insert(policyKey) }
            }
        }
        replan(key)
    }

    /// Rebuilds one endpoint's plan from its matched policies, and keeps profile use counts.
    private mutating func replan(_ key: String) {
        var new: EndpointPlan?
        if let endpoint = inputs.endpoints[key], endpoint.node == inputs.nodeName {
            let policies = (endpointPolicies[key] ?? []).compactMap { inputs.policies[$0] }
            new = CalcSemantics.plan(endpoint, policies: policies, profiles: inputs.profiles)
        }
        install(key, new)
    }

    /// The plan of an endpoint that just gained `policy` (nothing else of it changed): the key
    /// inserted at its place, as `replan` would sort it.
    private mutating func replan(_ key: String, inserting policy: Policy) {
        guard var plan = plans[key] else { return replan(key) }
        let policies = inputs.policies
        let order = { (other: PolicyKey) in policies[other]?.order }
        plan.ingress = TierPlanEdit.inserting(policy, into: plan.ingress, ingress: true, order: order)
        plan.egress = TierPlanEdit.inserting(policy, into: plan.egress, ingress: false, order: order)
        install(key, plan)
    }

    /// The plan of an endpoint that just lost the policy `removed`.
    private mutating func replan(_ key: String, removing removed: PolicyKey) {
        guard var plan = plans[key] else { return replan(key) }
        plan.ingress = TierPlanEdit.removing(removed, from: plan.ingress)
        plan.egress = TierPlanEdit.removing(removed, from: plan.egress)
        install(key, plan)
    }

    /// Puts an endpoint's new plan (nil: no longer a local endpoint) in the state and journal.
    private mutating func install(_ key: String, _ new: EndpointPlan?) {
        let old = plans[key]
        // Unchanged: leave `state.endpoints` untouched, so a renderer holding the previous state
        // still shares its storage (no copy of every plan per policy change).
        if old == new { return }
        if let old, state.endpoints[old.interfaceName]?.key == key {
            state.endpoints[old.interfaceName] = nil
            state.journal.record { $0.endpoints.insert(old.interfaceName) }
        }
        plans[key] = new
        if let new {
            state.endpoints[new.interfaceName] = new
            state.journal.record { $0.endpoints.insert(new.interfaceName) }
        }
        if old?.profiles == new?.profiles { return }
        let oldProfiles = Set(old?.profiles ?? []), newProfiles = Set(new?.profiles ?? [])
        for name in newProfiles.subtracting(oldProfiles) { useProfile(name, by: 1) }
        for name in oldProfiles.subtracting(newProfiles) { useProfile(name, by: -1) }
    }

    private mutating func useProfile(_ name: String, by delta: Int) {
        let count = (profileUsers[name] ?? 0) + delta
        profileUsers[name] = count > 0 ? count : nil
        if count > 0, state.profiles[name] == nil, let profile = inputs.profiles[name] {
            retain(CalcSemantics.requiredSets(profile))
            state.profiles[name] = profile
            state.journal.record { $0.profiles.insert(name) }
        } else if count <= 0, let old = state.profiles.removeValue(forKey: name) {
            release(CalcSemantics.requiredSets(old))
            state.journal.record { $0.profiles.insert(name) }
        }
    }
}
