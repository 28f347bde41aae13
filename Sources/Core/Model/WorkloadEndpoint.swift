/// Calico's WorkloadEndpoint as felix uses it: one pod's interface, addresses, labels, profiles
/// and named ports.
public struct WorkloadEndpoint: Sendable, Hashable {
    /// `<node>-k8s-<pod>-eth0`, each part with `-` doubled.
    public var name: String
    public var namespace: String
    public var pod: String
    public var node: String
    /// The host-side veth (`cali` + 11 hex digits).
    public var interfaceName: String
    /// Single-address networks (/32, /128).
    public var addresses: [IPNet]
    /// The pod's labels plus `projectcalico.org/namespace`, `/orchestrator` and `/serviceaccount`.
    public var labels: [String: String]
    /// `kns.<ns>` then, when the pod names one, `ksa.<ns>.<sa>`.
    public var profiles: [String]
    public var ports: [EndpointPort]
    public var serviceAccount: String?

    public init(name: String, namespace: String, pod: String, node: String, interfaceName: String,
                addresses: [IPNet], labels: [String: String], profiles: [String], ports: [EndpointPort] = [],
                serviceAccount: String? = nil) {
        self.name = name
        self.namespace = namespace
        self.pod = pod
        self.node = node
        self.interfaceName = interfaceName
        self.addresses = addresses
        self.labels = labels
        self.profiles = profiles
        self.ports = ports
        self.serviceAccount = serviceAccount
    }

    /// Identifies the endpoint across updates: `<namespace>/<pod>`.
    public var key: String { "\(namespace)/\(pod)" }
}

/// A named container port that policy rules can refer to by name.
public struct EndpointPort: Sendable, Hashable {
    public var name: String
    public var `protocol`: IPProtocol
    public var port: UInt16

    public init(name: String, protocol: IPProtocol, port: UInt16) {
        self.name = name
        self.protocol = `protocol`
        self.port = port
    }
}

/// An IP protocol number, with Calico's names for the common ones.
public struct IPProtocol: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var number: UInt8

    public init(number: UInt8) { self.number = number }

    public static let icmp = IPProtocol(number: 1)
    public static let tcp = IPProtocol(number: 6)
    public static let udp = IPProtocol(number: 17)
    public static let icmpv6 = IPProtocol(number: 58)
    public static let sctp = IPProtocol(number: 132)
    public static let udplite = IPProtocol(number: 136)

    private static let names: [(String, IPProtocol)] = [
        ("TCP", .tcp), ("UDP", .udp), ("ICMP", .icmp), ("ICMPv6", .icmpv6), ("SCTP", .sctp), ("UDPLite", .udplite),
    ]

    /// From a name (case-insensitive: `TCP`, `udp`, `ICMPv6`) or a number 1-255.
    public init?(_ value: IntOrString) {
        switch value {
        case .int(let n):
            guard let byte = UInt8(exactly: n), byte > 0 else { return nil }
            self.number = byte
        case .string(let s):
            if let n = Int(s) {
                guard let byte = UInt8(exactly: n), byte > 0 else { return nil }
                self.number = byte
                return
            }
            guard let known = Self.names.first(where: { $0.0.lowercased() == s.lowercased() }) else { return nil }
            self = known.1
        }
    }

    /// Whether rules with this protocol may match ports.
    public var hasPorts: Bool { self == .tcp || self == .udp || self == .sctp || self == .udplite }

    public var description: String { Self.names.first(where: { $0.1 == self })?.0 ?? String(number) }

    public static func < (lhs: IPProtocol, rhs: IPProtocol) -> Bool { lhs.number < rhs.number }
}
