/// One rule of a Calico NetworkPolicy or GlobalNetworkPolicy (projectcalico.org/v3 `Rule`).
public struct CalicoRule: Codable, Sendable, Hashable {
    /// `Allow`, `Deny`, `Log` or `Pass`.
    public var action: String
    /// 4 or 6; absent matches both.
    public var ipVersion: Int?
    /// A name (`TCP`, `UDP`, `ICMP`, `ICMPv6`, `SCTP`, `UDPLite`) or a number 1-255.
    public var `protocol`: IntOrString?
    public var notProtocol: IntOrString?
    public var icmp: ICMPMatch?
    public var notICMP: ICMPMatch?
    public var source: EntityRule?
    public var destination: EntityRule?
    public var http: HTTPMatch?
    public var metadata: RuleMetadata?

    public init(action: String, ipVersion: Int? = nil, protocol: IntOrString? = nil, notProtocol: IntOrString? = nil,
                icmp: ICMPMatch? = nil, notICMP: ICMPMatch? = nil, source: EntityRule? = nil,
                destination: EntityRule? = nil, http: HTTPMatch? = nil, metadata: RuleMetadata? = nil) {
        self.action = action
        self.ipVersion = ipVersion
        self.protocol = `protocol`
        self.notProtocol = notProtocol
        self.icmp = icmp
        self.notICMP = notICMP
        self.source = source
        self.destination = destination
        self.http = http
        self.metadata = metadata
    }

    public struct ICMPMatch: Codable, Sendable, Hashable {
        public var type: Int?
        public var code: Int?

        public init(type: Int? = nil, code: Int? = nil) {
            self.type = type
            self.code = code
        }
    }

    public struct HTTPMatch: Codable, Sendable, Hashable {
        public struct PathMatch: Codable, Sendable, Hashable {
            public var exact: String?
            public var prefix: String?
            public init(exact: String? = nil, prefix: String? = nil) {
                self.exact = exact
                self.prefix = prefix
            }
        }

        public var methods: [String]?
        public var paths: [PathMatch]?

        public init(methods: [String]? = nil, paths: [PathMatch]? = nil) {
            self.methods = methods
            self.paths = paths
        }
    }

    public struct RuleMetadata: Codable, Sendable, Hashable {
        public var annotations: [String: String]?
        public init(annotations: [String: String]? = nil) { self.annotations = annotations }
    }
}

/// The source or destination half of a Calico rule; every present field must match.
public struct EntityRule: Codable, Sendable, Hashable {
    public var nets: [String]?
    public var notNets: [String]?
    public var selector: String?
    public var notSelector: String?
    public var namespaceSelector: String?
    public var ports: [CalicoPort]?
    public var notPorts: [CalicoPort]?
    public var serviceAccounts: ServiceAccountMatch?
    public var services: ServiceMatch?

    public init(nets: [String]? = nil, notNets: [String]? = nil, selector: String? = nil, notSelector: String? = nil,
                namespaceSelector: String? = nil, ports: [CalicoPort]? = nil, notPorts: [CalicoPort]? = nil,
                serviceAccounts: ServiceAccountMatch? = nil, services: ServiceMatch? = nil) {
        self.nets = nets
        self.notNets = notNets
        self.selector = selector
        self.notSelector = notSelector
        self.namespaceSelector = namespaceSelector
        self.ports = ports
        self.notPorts = notPorts
        self.serviceAccounts = serviceAccounts
        self.services = services
    }

    public struct ServiceAccountMatch: Codable, Sendable, Hashable {
        public var names: [String]?
        public var selector: String?

        public init(names: [String]? = nil, selector: String? = nil) {
            self.names = names
            self.selector = selector
        }
    }

    public struct ServiceMatch: Codable, Sendable, Hashable {
        public var name: String
        public var namespace: String?

        public init(name: String, namespace: String? = nil) {
            self.name = name
            self.namespace = namespace
        }
    }
}

/// A Calico port: a number (`80`), an inclusive range (`"8000:8080"`) or a named port (`"http"`).
/// A string of digits (`"80"`) is read as a number, as calicoctl does.
public enum CalicoPort: Codable, Sendable, Hashable, CustomStringConvertible {
    case number(UInt16)
    case range(UInt16, UInt16)
    case named(String)

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) {
            guard let p = UInt16(exactly: n) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "port \(n) is outside 0-65535")
            }
            self = .number(p)
            return
        }
        let s = try c.decode(String.self)
        guard let port = CalicoPort(parsing: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "bad port '\(s)': want a number, 'min:max' or a port name")
        }
        self = port
    }

    /// Parses the string form; nil for an empty string or a malformed or reversed range.
    public init?(parsing s: String) {
        if let n = UInt16(s) { self = .number(n); return }
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard let lo = UInt16(parts[0]), let hi = UInt16(parts[1]), lo <= hi else { return nil }
            self = .range(lo, hi)
            return
        }
        guard !s.isEmpty, !s.contains(":") else { return nil }
        self = .named(s)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let n): try c.encode(Int(n))
        case .range, .named: try c.encode(description)
        }
    }

    public var description: String {
        switch self {
        case .number(let n): return String(n)
        case .range(let lo, let hi): return "\(lo):\(hi)"
        case .named(let name): return name
        }
    }
}
