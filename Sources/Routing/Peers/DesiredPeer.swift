import Core

/// Why a session exists, as `calicoctl node status` names it.
public enum PeerType: String, Hashable, Sendable, Codable {
    case nodeMesh = "node-to-node mesh"
    case global
    case nodeSpecific = "node specific"
}

/// One BGP session this node should have, before its password is read from its Secret.
public struct DesiredPeer: Hashable, Sendable {
    public var address: IPAddress
    public var port: Int
    public var asn: UInt32
    public var type: PeerType
    /// The Calico node at that address, if it is one.
    public var node: String?
    /// The BGPPeer resource it comes from (nil for the mesh).
    public var resource: String?
    /// Wait for the peer to connect (the node with the higher address does, so that a pair of
    /// Calico nodes opens one connection, as Calico's mesh does).
    public var passive: Bool
    /// We are a route reflector and the peer is one of our clients.
    public var routeReflectorClient: Bool
    public var password: SecretKeySource.Ref?
    public var keepOriginalNextHop: Bool
    public var sourceAddress: IPAddress?

    public init(address: IPAddress, port: Int = 179, asn: UInt32, type: PeerType, node: String? = nil,
                resource: String? = nil, passive: Bool = false, routeReflectorClient: Bool = false,
                password: SecretKeySource.Ref? = nil, keepOriginalNextHop: Bool = false, sourceAddress: IPAddress? = nil) {
        self.address = address
        self.port = port
        self.asn = asn
        self.type = type
        self.node = node
        self.resource = resource
        self.passive = passive
        self.routeReflectorClient = routeReflectorClient
        self.password = password
        self.keepOriginalNextHop = keepOriginalNextHop
        self.sourceAddress = sourceAddress
    }

    /// The speaker's view of the session; `password` is the Secret's value (never logged).
    public func speakerConfig(password: String?, holdTime: UInt16 = 90, connectRetrySeconds: Int = 5) -> BGPPeerConfig {
        var c = BGPPeerConfig(address: address, port: port, asn: asn, passive: passive, holdTime: holdTime,
                              connectRetrySeconds: connectRetrySeconds, password: password,
                              routeReflectorClient: routeReflectorClient, sourceAddress: sourceAddress)
        // One family per session, as Calico's BIRD configuration has it: IPv4 routes over IPv4
        // sessions, IPv6 over IPv6.
        c.families = [address.family == .ipv4 ? .ipv4Unicast : .ipv6Unicast]
        c.keepOriginalNextHop = keepOriginalNextHop
        return c
    }
}

/// This node's own BGP settings.
public struct LocalBGPSettings: Hashable, Sendable {
    public var nodeName: String
    public var asn: UInt32
    public var routerID: UInt32
    public var listenPort: Int
    /// Set when this node is a route reflector.
    public var clusterID: UInt32?
    public var ipv4: IPAddress?
    public var ipv6: IPAddress?
    /// BGPConfiguration bindMode `NodeIP`: listen on the node's address only.
    public var bindToNodeIP: Bool

    public init(nodeName: String, asn: UInt32, routerID: UInt32, listenPort: Int = 179, clusterID: UInt32? = nil,
                ipv4: IPAddress? = nil, ipv6: IPAddress? = nil, bindToNodeIP: Bool = false) {
        self.nodeName = nodeName
        self.asn = asn
        self.routerID = routerID
        self.listenPort = listenPort
        self.clusterID = clusterID
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.bindToNodeIP = bindToNodeIP
    }
}

/// What the planner decided: nil `local` when this node cannot run BGP (see `problems`).
public struct PeerPlan: Hashable, Sendable {
    public var local: LocalBGPSettings?
    public var peers: [DesiredPeer]
    /// Configuration that was skipped, each saying what to fix.
    public var problems: [String]

    public init(local: LocalBGPSettings?, peers: [DesiredPeer] = [], problems: [String] = []) {
        self.local = local
        self.peers = peers
        self.problems = problems
    }
}
