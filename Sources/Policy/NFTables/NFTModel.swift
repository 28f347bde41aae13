import Core

/// One nftables table of ours, as a value: what felix wants programmed (or what is programmed).
/// Pure data; `NFTProgrammer` turns the difference between two of these into one netlink batch.
/// Chains, sets and maps are keyed by name, so equal rulesets compare equal whatever order they
/// were built in; rendering sorts by name.
public struct NFTRuleset: Sendable, Hashable {
    public var table: String
    public var family: NFTFamily
    public var chains: [String: NFTChain]
    public var sets: [String: NFTSet]
    public var maps: [String: NFTVerdictMap]

    public init(table: String = "calico", family: NFTFamily = .inet, chains: [NFTChain] = [],
                sets: [NFTSet] = [], maps: [NFTVerdictMap] = []) {
        self.table = table
        self.family = family
        self.chains = Dictionary(chains.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.sets = Dictionary(sets.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.maps = Dictionary(maps.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    public mutating func add(_ chain: NFTChain) { chains[chain.name] = chain }
    public mutating func add(_ set: NFTSet) { sets[set.name] = set }
    public mutating func add(_ map: NFTVerdictMap) { maps[map.name] = map }

    public var ruleCount: Int { chains.values.reduce(0) { $0 + $1.rules.count } }
}

public enum NFTFamily: String, Sendable, Hashable, CaseIterable {
    case inet, ip, ip6

    /// NFPROTO_* number of the family.
    public var number: UInt32 {
        switch self {
        case .inet: return 1
        case .ip: return 2
        case .ip6: return 10
        }
    }
}

/// A chain: a base chain when `base` is set (attached to a netfilter hook), else a regular chain
/// reached only by jump/goto. Rules are in evaluation order.
public struct NFTChain: Sendable, Hashable {
    public var name: String
    public var base: NFTBaseChain?
    public var rules: [NFTRule]

    public init(name: String, base: NFTBaseChain? = nil, rules: [NFTRule] = []) {
        self.name = name
        self.base = base
        self.rules = rules
    }
}

public struct NFTBaseChain: Sendable, Hashable {
    public var type: NFTChainType
    public var hook: NFTHook
    public var priority: Int32
    public var policy: NFTChainPolicy

    public init(type: NFTChainType = .filter, hook: NFTHook, priority: Int32 = 0, policy: NFTChainPolicy = .accept) {
        self.type = type
        self.hook = hook
        self.priority = priority
        self.policy = policy
    }
}

public enum NFTChainType: String, Sendable, Hashable, CaseIterable { case filter, nat, route }

public enum NFTHook: String, Sendable, Hashable, CaseIterable {
    case prerouting, input, forward, output, postrouting

    /// NF_INET_* hook number.
    public var number: UInt32 {
        switch self {
        case .prerouting: return 0
        case .input: return 1
        case .forward: return 2
        case .output: return 3
        case .postrouting: return 4
        }
    }

    public init?(number: UInt32) {
        guard let hook = Self.allCases.first(where: { $0.number == number }) else { return nil }
        self = hook
    }
}

public enum NFTChainPolicy: String, Sendable, Hashable, CaseIterable {
    case accept, drop

    /// NF_ACCEPT / NF_DROP.
    public var number: UInt32 { self == .accept ? 1 : 0 }
}

/// A named set. Interval sets hold CIDRs and port ranges; the others single values. With
/// `counter` each element counts the packets a rule's lookup found it for (nft's `counter`
/// flag on a set), which gives per-interface counts without a rule per interface.
public struct NFTSet: Sendable, Hashable {
    public var name: String
    public var type: NFTSetType
    public var interval: Bool
    public var counter: Bool
    public var elements: Set<NFTSetElement>

    public init(name: String, type: NFTSetType, interval: Bool = false, counter: Bool = false, elements: Set<NFTSetElement> = []) {
        self.name = name
        self.type = type
        self.interval = interval
        self.counter = counter
        self.elements = elements
    }
}

public enum NFTSetType: String, Sendable, Hashable, CaseIterable {
    case ipv4Addr = "ipv4_addr"
    case ipv6Addr = "ipv6_addr"
    case inetService = "inet_service"
    case inetProto = "inet_proto"
    case ifname
    /// An address and a port together (a named port: each endpoint's address with the port its
    /// name resolves to there), as Calico's `hash:ip,port` sets; hash sets only.
    case ipv4AddrService = "ipv4_addr . inet_service"
    case ipv6AddrService = "ipv6_addr . inet_service"

    /// nftables' datatype number (what `nft` reads back to print the type).
    public var datatype: UInt32 {
        switch self {
        case .ipv4Addr: return 7
        case .ipv6Addr: return 8
        case .inetProto: return 12
        case .inetService: return 13
        case .ifname: return 41
        // A concatenation's type is its fields' types, 6 bits each, the first field highest.
        case .ipv4AddrService: return 7 << 6 | 13
        case .ipv6AddrService: return 8 << 6 | 13
        }
    }

    /// Key length in bytes.
    public var keyLength: Int {
        switch self {
        case .ipv4Addr: return 4
        case .ipv6Addr: return 16
        case .inetService: return 2
        case .inetProto: return 1
        case .ifname: return 16
        // Each field of a concatenation takes whole 32-bit registers: the port's two bytes are
        // followed by two zero bytes.
        case .ipv4AddrService: return 8
        case .ipv6AddrService: return 20
        }
    }

    public init?(datatype: UInt32) {
        guard let t = Self.allCases.first(where: { $0.datatype == datatype }) else { return nil }
        self = t
    }
}

/// One element of a named set.
public enum NFTSetElement: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// An address or (in an interval set) a CIDR.
    case net(IPNet)
    /// A port, or (in an interval set) an inclusive range of ports.
    case ports(ClosedRange<UInt16>)
    case proto(UInt8)
    case ifname(String)
    /// A single address and a port (sets of type `ipv4AddrService`/`ipv6AddrService`).
    case addrPort(IPNet, UInt16)

    public static func port(_ p: UInt16) -> NFTSetElement { .ports(p...p) }

    public var description: String {
        switch self {
        case .net(let n): return n.isSingleAddress ? n.addressText : n.description
        case .ports(let r): return r.count == 1 ? "\(r.lowerBound)" : "\(r.lowerBound)-\(r.upperBound)"
        case .proto(let p): return "\(p)"
        case .ifname(let s): return NFTText.quoted(s)
        case .addrPort(let n, let p): return "\(n.addressText) . \(p)"
        }
    }

    private var order: (Int, String, Int, Int) {
        switch self {
        case .net(let n): return (0, "", n.ipVersion, 0)
        case .ports(let r): return (1, "", Int(r.lowerBound), Int(r.upperBound))
        case .proto(let p): return (2, "", Int(p), 0)
        case .ifname(let s): return (3, s, 0, 0)
        case .addrPort(let n, let p): return (4, "", n.ipVersion, Int(p))
        }
    }

    public static func < (lhs: NFTSetElement, rhs: NFTSetElement) -> Bool {
        if case .net(let a) = lhs, case .net(let b) = rhs { return a < b }
        if case .addrPort(let a, let p) = lhs, case .addrPort(let b, let q) = rhs { return a != b ? a < b : p < q }
        return lhs.order < rhs.order
    }
}

/// A verdict map keyed by interface name: `iifname vmap @name` dispatches a packet to the
/// chain of its interface.
public struct NFTVerdictMap: Sendable, Hashable {
    public var name: String
    /// Interface name to verdict (normally jump or goto a per-interface chain).
    public var elements: [String: NFTVerdict]

    public init(name: String, elements: [String: NFTVerdict] = [:]) {
        self.name = name
        self.elements = elements
    }
}
