import Core

/// Settings of felix that change what the dataplane must hold.
public struct CalcConfig: Sendable, Hashable {
    /// What happens to traffic from a workload to its own host: `Drop`, `Accept` or `Return`.
    public var endpointToHostAction: String
    /// The prefix of workload interfaces (felix's InterfacePrefix): traffic through one that is
    /// no known endpoint's is dropped.
    public var interfacePrefix: String
    /// Felix's IPv6Support: false renders no IPv6 rules or sets (an IPv4-only cluster's
    /// manifests say so), so IPv6 packets find nothing that allows them by address.
    public var ipv6: Bool

    public init(endpointToHostAction: String = "Drop", interfacePrefix: String = "cali", ipv6: Bool = true) {
        self.endpointToHostAction = endpointToHostAction
        self.interfacePrefix = interfacePrefix
        self.ipv6 = ipv6
    }
}

/// Everything the calculation reads: the cluster's endpoints (selectors range over all of them),
/// profiles, policies and network sets, and which node is ours.
public struct CalcInputs: Sendable, Hashable {
    public var nodeName: String
    /// Every workload endpoint in the cluster, by `WorkloadEndpoint.key`.
    public var endpoints: [String: WorkloadEndpoint]
    public var profiles: [String: Profile]
    public var policies: [PolicyKey: Policy]
    public var networkSets: [String: NetworkSetEntry]
    public var config: CalcConfig

    public init(nodeName: String, endpoints: [String: WorkloadEndpoint] = [:], profiles: [String: Profile] = [:],
                policies: [PolicyKey: Policy] = [:], networkSets: [String: NetworkSetEntry] = [:],
                config: CalcConfig = CalcConfig()) {
        self.nodeName = nodeName
        self.endpoints = endpoints
        self.profiles = profiles
        self.policies = policies
        self.networkSets = networkSets
        self.config = config
    }

    /// The inputs after one change.
    public func applying(_ change: CalcChange) -> CalcInputs {
        var out = self
        out.apply(change)
        return out
    }

    public mutating func apply(_ change: CalcChange) {
        switch change {
        case .endpointUpdated(let e): endpoints[e.key] = e
        case .endpointRemoved(let key): endpoints[key] = nil
        case .profileUpdated(let p): profiles[p.name] = p
        case .profileRemoved(let name): profiles[name] = nil
        case .policyUpdated(let p): policies[p.key] = p
        case .policyRemoved(let key): policies[key] = nil
        case .networkSetUpdated(let s): networkSets[s.key] = s
        case .networkSetRemoved(let key): networkSets[key] = nil
        case .configUpdated(let c): config = c
        }
    }
}

/// One change to the inputs, as the datastore watchers report them.
public enum CalcChange: Sendable, Hashable {
    case endpointUpdated(WorkloadEndpoint)
    case endpointRemoved(key: String)
    case profileUpdated(Profile)
    case profileRemoved(name: String)
    case policyUpdated(Policy)
    case policyRemoved(PolicyKey)
    case networkSetUpdated(NetworkSetEntry)
    case networkSetRemoved(key: String)
    case configUpdated(CalcConfig)
}
