/// What a rule does when it matches.
public enum RuleAction: String, Sendable, Hashable, CaseIterable {
    case allow = "Allow", deny = "Deny", log = "Log", pass = "Pass"
}

/// A port match: a number is a one-port range; a name is resolved per endpoint.
public enum PortMatch: Sendable, Hashable, CustomStringConvertible {
    case range(UInt16, UInt16)
    case named(String)

    public static func number(_ port: UInt16) -> PortMatch { .range(port, port) }

    public var description: String {
        switch self {
        case .range(let lo, let hi): return lo == hi ? String(lo) : "\(lo):\(hi)"
        case .named(let name): return name
        }
    }
}

/// An ICMP type, optionally with a code.
public struct ICMPMatch: Sendable, Hashable {
    public var type: UInt8
    public var code: UInt8?

    public init(type: UInt8, code: UInt8? = nil) {
        self.type = type
        self.code = code
    }
}

/// One side (source or destination) of a rule after conversion: selectors already carry the
/// namespace and service-account scoping, so evaluation needs only an endpoint's labels.
public struct EntityMatch: Sendable, Hashable {
    public var nets: [IPNet]
    public var notNets: [IPNet]
    /// Endpoints (and network sets) whose addresses match; nil: no selector condition.
    public var selector: SelectorExpr?
    public var notSelector: SelectorExpr?
    public var ports: [PortMatch]
    public var notPorts: [PortMatch]

    public init(nets: [IPNet] = [], notNets: [IPNet] = [], selector: SelectorExpr? = nil, notSelector: SelectorExpr? = nil,
                ports: [PortMatch] = [], notPorts: [PortMatch] = []) {
        self.nets = nets
        self.notNets = notNets
        self.selector = selector
        self.notSelector = notSelector
        self.ports = ports
        self.notPorts = notPorts
    }

    public static let any = EntityMatch()
}

/// A rule of a policy or profile, in felix's terms.
public struct PolicyRule: Sendable, Hashable {
    public var action: RuleAction
    /// 4 or 6; nil matches both.
    public var ipVersion: Int?
    public var `protocol`: IPProtocol?
    public var notProtocol: IPProtocol?
    public var icmp: ICMPMatch?
    public var notICMP: ICMPMatch?
    public var source: EntityMatch
    public var destination: EntityMatch

    public init(action: RuleAction, ipVersion: Int? = nil, protocol: IPProtocol? = nil, notProtocol: IPProtocol? = nil,
                icmp: ICMPMatch? = nil, notICMP: ICMPMatch? = nil, source: EntityMatch = .any,
                destination: EntityMatch = .any) {
        self.action = action
        self.ipVersion = ipVersion
        self.protocol = `protocol`
        self.notProtocol = notProtocol
        self.icmp = icmp
        self.notICMP = notICMP
        self.source = source
        self.destination = destination
    }
}
