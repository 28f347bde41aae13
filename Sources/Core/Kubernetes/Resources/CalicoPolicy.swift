/// crd.projectcalico.org/v1 NetworkPolicy: namespaced Calico policy.
public typealias CalicoNetworkPolicy = SpecResource<CalicoNetworkPolicyKind, CalicoPolicySpec>

/// crd.projectcalico.org/v1 GlobalNetworkPolicy: cluster-wide Calico policy, which may also
/// apply to host endpoints (doNotTrack, preDNAT, applyOnForward).
public typealias GlobalNetworkPolicy = SpecResource<GlobalNetworkPolicyKind, CalicoPolicySpec>

/// The spec both Calico policy kinds share; the global-only fields stay nil on a namespaced one.
public struct CalicoPolicySpec: Codable, Sendable, Hashable {
    /// Lower applies first; absent orders after every policy that has one.
    public var order: Double?
    /// Defaults to `default`.
    public var tier: String?
    /// Endpoints the policy applies to; absent or empty means all().
    public var selector: String?
    /// `Ingress` and/or `Egress`.
    public var types: [String]?
    public var ingress: [CalicoRule]?
    public var egress: [CalicoRule]?
    public var serviceAccountSelector: String?
    public var performanceHints: [String]?
    // GlobalNetworkPolicy only.
    public var namespaceSelector: String?
    public var doNotTrack: Bool?
    public var preDNAT: Bool?
    public var applyOnForward: Bool?

    public init(order: Double? = nil, tier: String? = nil, selector: String? = nil, types: [String]? = nil,
                ingress: [CalicoRule]? = nil, egress: [CalicoRule]? = nil, serviceAccountSelector: String? = nil,
                performanceHints: [String]? = nil, namespaceSelector: String? = nil, doNotTrack: Bool? = nil,
                preDNAT: Bool? = nil, applyOnForward: Bool? = nil) {
        self.order = order
        self.tier = tier
        self.selector = selector
        self.types = types
        self.ingress = ingress
        self.egress = egress
        self.serviceAccountSelector = serviceAccountSelector
        self.performanceHints = performanceHints
        self.namespaceSelector = namespaceSelector
        self.doNotTrack = doNotTrack
        self.preDNAT = preDNAT
        self.applyOnForward = applyOnForward
    }
}
