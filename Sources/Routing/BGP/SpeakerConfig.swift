import Foundation

/// One configured neighbour.
public struct BGPPeerConfig: Hashable, Sendable {
    public var address: IPAddress
    public var port: Int
    public var asn: UInt32
    /// Wait for the peer to connect instead of connecting.
    public var passive: Bool
    public var holdTime: UInt16
    public var connectRetrySeconds: Int
    /// RFC 2385 TCP MD5 password; nil for none. Never logged.
    public var password: String?
    /// The peer is one of our route-reflector clients.
    public var routeReflectorClient: Bool
    public var nextHopSelf: Bool
    /// Source address for outbound connections.
    public var sourceAddress: IPAddress?
    /// The families to offer on this session; nil offers the speaker's.
    public var families: [AddressFamily]?
    /// eBGP: pass routes on with their next hop unchanged instead of ours.
    public var keepOriginalNextHop = false

    public init(address: IPAddress, port: Int = 179, asn: UInt32, passive: Bool = false, holdTime: UInt16 = 90,
                connectRetrySeconds: Int = 5, password: String? = nil, routeReflectorClient: Bool = false,
                nextHopSelf: Bool = false, sourceAddress: IPAddress? = nil) {
        self.address = address
        self.port = port
        self.asn = asn
        self.passive = passive
        self.holdTime = holdTime
        self.connectRetrySeconds = connectRetrySeconds
        self.password = password
        self.routeReflectorClient = routeReflectorClient
        self.nextHopSelf = nextHopSelf
        self.sourceAddress = sourceAddress
    }
}

/// The speaker's own settings.
public struct BGPSpeakerConfig: Sendable {
    public var localAS: UInt32
    public var routerID: UInt32
    /// Where to listen; nil does not listen (every peer must then be active).
    public var listenAddress: IPAddress?
    public var listenPort: Int
    /// Our route-reflector cluster ID (defaults to the router ID when we have clients).
    public var clusterID: UInt32?
    public var families: [AddressFamily]
    /// Advertised graceful restart time (RFC 4724); 0 does not advertise the capability.
    public var gracefulRestartSeconds: UInt16
    /// Our addresses, offered as next hop for the family the session's own address is not of.
    public var localAddresses: [IPAddress]
    /// Create every socket inside this network namespace (a file such as /run/netns/NAME).
    public var networkNamespacePath: String?
    /// Track Loc-RIB changes for `BGPSpeaker.locRIBChanges`. Pending changes cost a bit and a
    /// packed queue entry per prefix until taken, so a speaker whose changes nobody consumes (a
    /// benchmark feeder) turns this off.
    public var publishLocRIBChanges = true
    /// We are coming back from a graceful restart: set the R bit in our OPEN (RFC 4724 3).
    public var restarting = false

    public init(localAS: UInt32, routerID: UInt32, listenAddress: IPAddress? = IPAddress("::"), listenPort: Int = 179,
                clusterID: UInt32? = nil, families: [AddressFamily] = [.ipv4Unicast, .ipv6Unicast],
                gracefulRestartSeconds: UInt16 = 120, localAddresses: [IPAddress] = [], networkNamespacePath: String? = nil) {
        self.localAS = localAS
        self.routerID = routerID
        self.listenAddress = listenAddress
        self.listenPort = listenPort
        self.clusterID = clusterID
        self.families = families
        self.gracefulRestartSeconds = gracefulRestartSeconds
        self.localAddresses = localAddresses
        self.networkNamespacePath = networkNamespacePath
    }

    func sessionConfig(for peer: BGPPeerConfig) -> SessionConfig {
        let gr = gracefulRestartSeconds == 0 ? nil : GracefulRestartCapability(
            restarting: restarting, restartTime: gracefulRestartSeconds, families: (peer.families ?? families).map { .init($0, forwardingPreserved: true) })
        return SessionConfig(localAS: localAS, peerAS: peer.asn, bgpIdentifier: routerID, holdTime: peer.holdTime,
                             connectRetrySeconds: peer.connectRetrySeconds, idleHoldSeconds: 2, families: peer.families ?? families,
                             gracefulRestart: gr, passive: peer.passive)
    }
}

/// What `calico-node ctl node status` shows for one peer.
public struct BGPPeerStatus: Hashable, Sendable {
    public var address: IPAddress
    public var asn: UInt32
    public var state: SessionState
    /// When the session entered its current state.
    public var since: Date
    public var lastError: String?
    public var prefixesReceived: Int
    public var prefixesAdvertised: Int
    public var updatesReceived: Int
}
