/// Names a policy: namespaced ones by namespace and name, global ones by name alone.
public struct PolicyKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var namespace: String?
    public var name: String

    public init(namespace: String? = nil, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// `<ns>/<name>` or `<name>`.
    public var description: String { namespace.map { "\($0)/\(name)" } ?? name }

    public static func < (lhs: PolicyKey, rhs: PolicyKey) -> Bool { lhs.description < rhs.description }
}

/// Which directions a policy governs.
public struct PolicyTypes: Sendable, Hashable {
    public var ingress: Bool
    public var egress: Bool

    public init(ingress: Bool, egress: Bool) {
        self.ingress = ingress
        self.egress = egress
    }
}

/// Calico policy as felix evaluates it, from any of the three policy kinds.
public struct Policy: Sendable, Hashable {
    public var key: PolicyKey
    public var tier: String
    /// Lower applies first; nil after every ordered policy.
    public var order: Double?
    /// The endpoints it applies to, namespace scoping included.
    public var selector: SelectorExpr
    public var types: PolicyTypes
    public var ingress: [PolicyRule]
    public var egress: [PolicyRule]

    public init(key: PolicyKey, tier: String = "default", order: Double? = nil, selector: SelectorExpr,
                types: PolicyTypes, ingress: [PolicyRule] = [], egress: [PolicyRule] = []) {
        self.key = key
        self.tier = tier
        self.order = order
        self.selector = selector
        self.types = types
        self.ingress = ingress
        self.egress = egress
    }

    /// Calico's order within a tier: by order (absent last), then by name.
    public static func appliesBefore(_ lhs: Policy, _ rhs: Policy) -> Bool {
        appliesBefore(lhs.order, lhs.key, rhs.order, rhs.key)
    }

    /// The same on the two fields it reads (sorting these moves less than whole policies).
    public static func appliesBefore(_ lOrder: Double?, _ lKey: PolicyKey, _ rOrder: Double?, _ rKey: PolicyKey) -> Bool {
        switch (lOrder, rOrder) {
        case let (l?, r?) where l != r: return l < r
        case (.some, nil): return true
        case (nil, .some): return false
        default: return lKey.name != rKey.name ? lKey.name < rKey.name : lKey < rKey
        }
    }
}

/// A profile: labels its endpoints inherit and rules that apply when no policy does.
public struct Profile: Sendable, Hashable {
    public var name: String
    public var labels: [String: String]
    public var ingress: [PolicyRule]
    public var egress: [PolicyRule]

    public init(name: String, labels: [String: String] = [:], ingress: [PolicyRule] = [], egress: [PolicyRule] = []) {
        self.name = name
        self.labels = labels
        self.ingress = ingress
        self.egress = egress
    }
}

/// A NetworkSet or GlobalNetworkSet: nets that selectors can match through its labels.
public struct NetworkSetEntry: Sendable, Hashable {
    /// `<ns>/<name>` for a namespaced set, `<name>` for a global one.
    public var key: String
    public var namespace: String?
    /// Own labels plus, for a namespaced set, `projectcalico.org/namespace`.
    public var labels: [String: String]
    /// `kns.<ns>` for a namespaced set (whose labels it then inherits), none for a global one.
    public var profiles: [String]
    public var nets: [IPNet]

    public init(key: String, namespace: String?, labels: [String: String], profiles: [String], nets: [IPNet]) {
        self.key = key
        self.namespace = namespace
        self.labels = labels
        self.profiles = profiles
        self.nets = nets
    }

    public var isGlobal: Bool { namespace == nil }
}
