/// A change of the Loc-RIB, for the kernel: the new best route and its multipath set, or
/// removal when `best` is nil.
public struct LocRIBChange: Hashable, Sendable {
    public var prefix: IPPrefix
    public var best: Route?
    /// The multipath set without `best` (empty in the common single-path case: no allocation
    /// while many changes wait for the kernel).
    public var others: [Route]

    public init(prefix: IPPrefix, best: Route?, multipath: [Route]) {
        self.prefix = prefix
        self.best = best
        others = multipath.count <= 1 ? [] : multipath.filter { $0 != best }
    }

    init(prefix: IPPrefix, selection: BestPath.Selection?) {
        self.prefix = prefix
        best = selection?.best
        others = selection?.others ?? []
    }

    /// `best` and the routes that tie with it, best first (empty on removal).
    public var multipath: [Route] { best.map { [$0] + others } ?? [] }

    /// The distinct next hops to program (empty on removal).
    public var nextHops: [IPAddress] { multipath.compactMap(\.nextHop) }
}

/// What to tell one peer: prefixes to announce grouped by their attributes, and withdrawals.
public struct PeerOutbound: Hashable, Sendable {
    public struct Group: Hashable, Sendable {
        public var family: AddressFamily
        public var attributes: PathAttributes
    }

    public var announce: [Group: [IPPrefix]] = [:]
    public var withdraw: [AddressFamily: [IPPrefix]] = [:]

    public init() {}

    public var isEmpty: Bool { announce.isEmpty && withdraw.isEmpty }
    public var announcedCount: Int { announce.values.reduce(0) { $0 + $1.count } }
    public var withdrawnCount: Int { withdraw.values.reduce(0) { $0 + $1.count } }

    mutating func add(_ prefix: IPPrefix, _ attributes: PathAttributes) {
        announce[Group(family: prefix.family, attributes: attributes), default: []].append(prefix)
    }

    mutating func remove(_ prefix: IPPrefix) {
        withdraw[prefix.family, default: []].append(prefix)
    }

    /// The UPDATE messages, packed to the session's size limit: withdrawals first, then each
    /// attribute group. IPv6 next hops move into MP_REACH_NLRI.
    public func updates(context: WireContext) -> [UpdateMessage] {
        var out: [UpdateMessage] = []
        for (family, prefixes) in withdraw.sorted(by: { $0.key.description < $1.key.description }) {
            out += UpdatePacking.withdraw(prefixes.sorted(), family: family, context: context)
        }
        for (group, prefixes) in announce {
            var attrs = group.attributes
            if group.family != .ipv4Unicast {
                guard let hop = attrs.nextHop else { continue }
                attrs.nextHop = nil
                attrs.mpReach = MPReach(family: group.family, nextHop: hop, nlri: [])
            }
            out += UpdatePacking.announce(prefixes.sorted(), family: group.family, attributes: attrs, context: context)
        }
        return out
    }
}

/// Everything one RIB operation changed.
public struct RIBChanges: Hashable, Sendable {
    public var locRIB: [LocRIBChange] = []
    public var outbound: [IPAddress: PeerOutbound] = [:]

    public init() {}

    public var isEmpty: Bool { locRIB.isEmpty && outbound.values.allSatisfy(\.isEmpty) }

}
