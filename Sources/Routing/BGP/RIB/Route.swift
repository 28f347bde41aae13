/// Where a route in the RIB came from.
public enum RouteSource: Hashable, Sendable {
    /// Originated by this speaker (the node's own blocks).
    case local
    /// Learned from the peer at this address.
    case peer(IPAddress)
}

/// One path to a prefix as the RIB keeps it. Attributes are stored without MP_REACH/MP_UNREACH:
/// `attributes.nextHop` holds the next hop of either family. They live in a shared immutable
/// box, so that the many prefixes of one UPDATE (and the copies in Loc-RIB and change batches)
/// hold one pointer each instead of a copy of every attribute: a million routes stay small.
public struct Route: Hashable, Sendable, CustomStringConvertible {
    public var prefix: IPPrefix
    public var source: RouteSource
    private var box: SharedAttributes
    /// The BGP identifier of the peer it came from (0 for local routes).
    public var peerRouterID: UInt32
    /// Learned over an eBGP session.
    public var external: Bool
    /// Kept across the peer's graceful restart, waiting to be re-announced (RFC 4724).
    public var stale: Bool

    public init(prefix: IPPrefix, source: RouteSource, attributes: PathAttributes, peerRouterID: UInt32 = 0,
                external: Bool = false, stale: Bool = false) {
        self.init(prefix: prefix, source: source, shared: SharedAttributes(attributes), peerRouterID: peerRouterID,
                  external: external, stale: stale)
    }

    /// With attributes already boxed (one box for all the prefixes of an UPDATE).
    init(prefix: IPPrefix, source: RouteSource, shared: SharedAttributes, peerRouterID: UInt32 = 0,
         external: Bool = false, stale: Bool = false) {
        self.prefix = prefix
        self.source = source
        self.box = shared
        self.peerRouterID = peerRouterID
        self.external = external
        self.stale = stale
    }

    public var attributes: PathAttributes {
        get { box.value }
        set { box = SharedAttributes(newValue) }
    }

    public var nextHop: IPAddress? { attributes.nextHop }
    public var peerAddress: IPAddress? { if case .peer(let a) = source { return a } else { return nil } }
    public var description: String {
        "\(prefix) via \(nextHop.map { "\($0)" } ?? "-") from \(peerAddress.map { "\($0)" } ?? "local") path [\(attributes.asPath?.description ?? "")]"
    }
}

/// An Established peer as the RIB sees it.
public struct RIBPeer: Hashable, Sendable {
    public var address: IPAddress
    public var asn: UInt32
    public var routerID: UInt32
    /// Families negotiated on the session.
    public var families: [AddressFamily]
    /// Our addresses to use as next hop toward this peer, per family (next-hop-self, eBGP).
    public var localAddresses: [IPAddress]
    /// This peer is one of our route-reflector clients (RFC 4456).
    public var routeReflectorClient: Bool
    /// Rewrite the next hop to ourselves for every route sent to this iBGP peer.
    public var nextHopSelf: Bool
    /// eBGP: keep the route's next hop instead of putting ours.
    public var keepOriginalNextHop = false

    public init(address: IPAddress, asn: UInt32, routerID: UInt32, families: [AddressFamily] = [.ipv4Unicast, .ipv6Unicast],
                localAddresses: [IPAddress], routeReflectorClient: Bool = false, nextHopSelf: Bool = false) {
        self.address = address
        self.asn = asn
        self.routerID = routerID
        self.families = families
        self.localAddresses = localAddresses
        self.routeReflectorClient = routeReflectorClient
        self.nextHopSelf = nextHopSelf
    }

    public func localAddress(for afi: AddressFamily.AFI) -> IPAddress? {
        localAddresses.first { $0.family == afi && !$0.isIPv6LinkLocal }
    }
}

/// The speaker-wide settings the RIB needs.
public struct RIBConfig: Hashable, Sendable {
    public var localAS: UInt32
    public var routerID: UInt32
    /// Our cluster ID as a route reflector; the router ID when nil (RFC 4456 7).
    public var clusterID: UInt32?
    /// LOCAL_PREF assumed for routes without one and set on routes sent to iBGP peers.
    public var defaultLocalPref: UInt32

    public init(localAS: UInt32, routerID: UInt32, clusterID: UInt32? = nil, defaultLocalPref: UInt32 = 100) {
        self.localAS = localAS
        self.routerID = routerID
        self.clusterID = clusterID
        self.defaultLocalPref = defaultLocalPref
    }

    public var effectiveClusterID: UInt32 { clusterID ?? routerID }
}

extension IPPrefix {
    public var family: AddressFamily { afi == .ipv4 ? .ipv4Unicast : .ipv6Unicast }
}

/// Immutable path attributes shared by reference between routes.
final class SharedAttributes: Hashable, Sendable {
    let value: PathAttributes

    init(_ value: PathAttributes) { self.value = value }

    static func == (a: SharedAttributes, b: SharedAttributes) -> Bool { a === b || a.value == b.value }
    func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
