import Core

/// The desired dataplane for one node, as a value: what Render turns into nftables.
public struct DataplaneState: Sendable, Hashable {
    /// Local endpoints by host interface name.
    public internal(set) var endpoints: [String: EndpointPlan]
    /// Policies that apply to at least one local endpoint.
    public internal(set) var policies: [PolicyKey: Policy]
    /// Profiles that local endpoints name and that exist.
    public internal(set) var profiles: [String: Profile]
    /// Every IP set a rule of an active policy or profile refers to, with its members.
    public internal(set) var ipSets: [IPSetID: IPSetMembers]
    public internal(set) var config: CalcConfig
    /// What the calculator changed, revision by revision (not part of the value: equality and
    /// hashing ignore it). Setters are internal so that nothing changes a state unrecorded.
    var journal = DataplaneJournal()

    public init(endpoints: [String: EndpointPlan] = [:], policies: [PolicyKey: Policy] = [:],
                profiles: [String: Profile] = [:], ipSets: [IPSetID: IPSetMembers] = [:], config: CalcConfig = CalcConfig()) {
        self.endpoints = endpoints
        self.policies = policies
        self.profiles = profiles
        self.ipSets = ipSets
        self.config = config
    }

    public static func == (a: DataplaneState, b: DataplaneState) -> Bool {
        a.endpoints == b.endpoints && a.policies == b.policies && a.profiles == b.profiles && a.ipSets == b.ipSets
            && a.config == b.config
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(endpoints)
        hasher.combine(policies)
        hasher.combine(profiles)
        hasher.combine(ipSets)
        hasher.combine(config)
    }
}

/// What applies to one local endpoint, per direction.
public struct EndpointPlan: Sendable, Hashable {
    public var key: String
    public var name: String
    public var interfaceName: String
    public var addresses: [IPNet]
    /// Tiers in order, each with its policies in order; empty: the profiles decide.
    public var ingress: [TierPlan]
    public var egress: [TierPlan]
    /// Profiles in the endpoint's order, those that exist.
    public var profiles: [String]

    public init(key: String, name: String, interfaceName: String, addresses: [IPNet], ingress: [TierPlan],
                egress: [TierPlan], profiles: [String]) {
        self.key = key
        self.name = name
        self.interfaceName = interfaceName
        self.addresses = addresses
        self.ingress = ingress
        self.egress = egress
        self.profiles = profiles
    }
}

public struct TierPlan: Sendable, Hashable {
    public var name: String
    public var policies: [PolicyKey]

    /// Calico's order of tiers: by name, `default` last.
    public static func tierBefore(_ a: String, _ b: String) -> Bool {
        (a == "default") != (b == "default") ? b == "default" : a < b
    }

    public init(name: String, policies: [PolicyKey]) {
        self.name = name
        self.policies = policies
    }
}

/// An IP set a rule needs: the addresses of what a selector matches, or the (address,
/// protocol, port) triples of a named port on the endpoints a selector matches.
public enum IPSetID: Sendable, Hashable, Comparable, CustomStringConvertible {
    case selector(SelectorExpr)
    /// A nil protocol matches the named port on any protocol.
    case namedPort(SelectorExpr, IPProtocol?, String)

    public var description: String {
        switch self {
        case .selector(let s): return "selector \(s)"
        case .namedPort(let s, let p, let name): return "named port \(p.map { "\($0)/" } ?? "")\(name) on \(s)"
        }
    }

    /// A stable name of at most 16 characters: `s-` or `n-` and 14 hex digits of SHA-1 of the
    /// canonical description.
    public var setName: String {
        let prefix: String
        switch self {
        case .selector: prefix = "s-"
        case .namedPort: prefix = "n-"
        }
        return prefix + SHA1.hexDigest(description).prefix(14)
    }

    public var isNamedPort: Bool { if case .namedPort = self { return true } else { return false } }

    public static func < (lhs: IPSetID, rhs: IPSetID) -> Bool { lhs.description < rhs.description }
}

/// Members of an IP set: networks for selector sets, triples for named-port sets.
public struct IPSetMembers: Sendable, Hashable {
    public var nets: Set<IPNet>
    public var ports: Set<IPPortMember>

    public init(nets: Set<IPNet> = [], ports: Set<IPPortMember> = []) {
        self.nets = nets
        self.ports = ports
    }

    public var isEmpty: Bool { nets.isEmpty && ports.isEmpty }
}

public struct IPPortMember: Sendable, Hashable, Comparable {
    public var address: IPNet
    public var `protocol`: IPProtocol
    public var port: UInt16

    public init(address: IPNet, protocol: IPProtocol, port: UInt16) {
        self.address = address
        self.protocol = `protocol`
        self.port = port
    }

    public static func < (lhs: IPPortMember, rhs: IPPortMember) -> Bool {
        (lhs.address, lhs.protocol.number, lhs.port) < (rhs.address, rhs.protocol.number, rhs.port)
    }
}
