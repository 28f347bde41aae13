import Core

/// Something selectors match: a workload endpoint or a network set.
enum CalcMember: Hashable, Sendable {
    case endpoint(String)
    case networkSet(String)
}

/// A member's labels as selectors see them: its own, then those of its profiles (own win).
struct MemberLabels: SelectorLabels {
    var own: [String: String]
    var inherited: [[String: String]]

    func labelValue(_ key: String) -> String? {
        if let value = own[key] { return value }
        for labels in inherited { if let value = labels[key] { return value } }
        return nil
    }

    /// Every (key, value) a selector can see, own labels shadowing inherited ones.
    var all: [String: String] {
        var out: [String: String] = [:]
        for labels in inherited.reversed() { out.merge(labels) { _, new in new } }
        out.merge(own) { _, new in new }
        return out
    }
}

/// The rules of the calculation that the full and the incremental computation share.
enum CalcSemantics {
    static func labels(_ endpoint: WorkloadEndpoint, profiles: [String: Profile]) -> MemberLabels {
        MemberLabels(own: endpoint.labels, inherited: endpoint.profiles.compactMap { profiles[$0]?.labels })
    }

    static func labels(_ set: NetworkSetEntry, profiles: [String: Profile]) -> MemberLabels {
        MemberLabels(own: set.labels, inherited: set.profiles.compactMap { profiles[$0]?.labels })
    }

    /// The IP sets that rules refer to.
    static func requiredSets(_ rules: [PolicyRule]) -> Set<IPSetID> {
        var out: Set<IPSetID> = []
        for rule in rules {
            for side in [rule.source, rule.destination] {
                if let s = side.selector { out.insert(.selector(s)) }
                if let s = side.notSelector { out.insert(.selector(s)) }
                for case .named(let name) in side.ports + side.notPorts {
                    out.insert(.namedPort(side.selector ?? .all, rule.protocol, name))
                }
            }
        }
        return out
    }

    static func requiredSets(_ policy: Policy) -> Set<IPSetID> {
        requiredSets((policy.types.ingress ? policy.ingress : []) + (policy.types.egress ? policy.egress : []))
    }

    static func requiredSets(_ profile: Profile) -> Set<IPSetID> { requiredSets(profile.ingress + profile.egress) }

    static func selector(of id: IPSetID) -> SelectorExpr {
        switch id {
        case .selector(let s), .namedPort(let s, _, _): return s
        }
    }

    /// What one endpoint contributes to a set whose selector it matches.
    static func contribution(_ id: IPSetID, endpoint: WorkloadEndpoint) -> IPSetMembers {
        switch id {
        case .selector:
            return IPSetMembers(nets: Set(endpoint.addresses))
        case .namedPort(_, let proto, let name):
            var ports: Set<IPPortMember> = []
            for port in endpoint.ports where port.name == name && (proto == nil || proto == port.protocol) {
                for address in endpoint.addresses {
                    ports.insert(IPPortMember(address: address, protocol: port.protocol, port: port.port))
                }
            }
            return IPSetMembers(ports: ports)
        }
    }

    /// What a network set contributes: its nets to selector sets, nothing to named-port sets.
    static func contribution(_ id: IPSetID, networkSet: NetworkSetEntry) -> IPSetMembers {
        id.isNamedPort ? IPSetMembers() : IPSetMembers(nets: Set(networkSet.nets))
    }

    /// The tiers of the policies that apply in one direction: tiers by name with `default`
    /// last, policies within a tier by order then name.
    static func tiers(_ policies: [Policy], ingress: Bool) -> [TierPlan] {
        // Sorted as (order, key) pairs, not as policies: a selector change replans every endpoint
        // it moves, and swapping whole policies (rules and all) was most of that.
        var byTier: [String: [(order: Double?, key: PolicyKey)]] = [:]
        for policy in policies where ingress ? policy.types.ingress : policy.types.egress {
            byTier[policy.tier, default: []].append((policy.order, policy.key))
        }
        let names = byTier.keys.sorted(by: TierPlan.tierBefore)
        return names.map { name in
            TierPlan(name: name, policies: (byTier[name] ?? []).sorted { Policy.appliesBefore($0.order, $0.key, $1.order, $1.key) }.map(\.key))
        }
    }

    static func plan(_ endpoint: WorkloadEndpoint, policies: [Policy], profiles: [String: Profile]) -> EndpointPlan {
        EndpointPlan(key: endpoint.key, name: endpoint.name, interfaceName: endpoint.interfaceName,
                     addresses: endpoint.addresses, ingress: tiers(policies, ingress: true),
                     egress: tiers(policies, ingress: false), profiles: endpoint.profiles.filter { profiles[$0] != nil })
    }

    /// Whether a policy governs an endpoint at all (in either of its directions).
    static func applies(_ policy: Policy, to labels: MemberLabels) -> Bool {
        (policy.types.ingress || policy.types.egress) && policy.selector.matches(labels: labels)
    }
}

extension DataplaneState {
    /// The desired state computed from scratch: the reference the incremental calculator must
    /// always equal.
    public static func compute(from inputs: CalcInputs) -> DataplaneState {
        var state = DataplaneState(config: inputs.config)
        let policies = Array(inputs.policies.values)
        for endpoint in inputs.endpoints.values where endpoint.node == inputs.nodeName {
            let labels = CalcSemantics.labels(endpoint, profiles: inputs.profiles)
            let applying = policies.filter { CalcSemantics.applies($0, to: labels) }
            for policy in applying { state.policies[policy.key] = policy }
            let plan = CalcSemantics.plan(endpoint, policies: applying, profiles: inputs.profiles)
            for name in plan.profiles { state.profiles[name] = inputs.profiles[name] }
            state.endpoints[endpoint.interfaceName] = plan
        }
        var needed: Set<IPSetID> = []
        for policy in state.policies.values { needed.formUnion(CalcSemantics.requiredSets(policy)) }
        for profile in state.profiles.values { needed.formUnion(CalcSemantics.requiredSets(profile)) }
        for id in needed {
            let selector = CalcSemantics.selector(of: id)
            var members = IPSetMembers()
            for endpoint in inputs.endpoints.values
            where selector.matches(labels: CalcSemantics.labels(endpoint, profiles: inputs.profiles)) {
                let c = CalcSemantics.contribution(id, endpoint: endpoint)
                members.nets.formUnion(c.nets)
                members.ports.formUnion(c.ports)
            }
            for set in inputs.networkSets.values
            where selector.matches(labels: CalcSemantics.labels(set, profiles: inputs.profiles), isGlobal: set.isGlobal) {
                members.nets.formUnion(CalcSemantics.contribution(id, networkSet: set).nets)
            }
            state.ipSets[id] = members
        }
        return state
    }
}
