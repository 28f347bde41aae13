/// What the local speaker wants from one session.
public struct SessionConfig: Hashable, Sendable {
    public var localAS: UInt32
    /// The AS the peer must be in; nil accepts any (its AS is then reported in the negotiation).
    public var peerAS: UInt32?
    public var bgpIdentifier: UInt32
    /// Hold time we propose (RFC 4271 suggests 90; 0 disables hold and keepalive timers).
    public var holdTime: UInt16
    /// Smallest non-zero negotiated hold time we accept (at least 3, RFC 4271 4.2).
    public var minimumHoldTime: UInt16
    /// Whether a negotiated hold time of 0 is acceptable.
    public var acceptZeroHoldTime: Bool
    public var connectRetrySeconds: Int
    /// Hold timer while waiting for the peer's OPEN (RFC 4271 8.2.2 suggests 4 minutes).
    public var largeHoldSeconds: Int
    /// Idle time before restarting automatically after an error; nil stays Idle until told.
    public var idleHoldSeconds: Int?
    public var families: [AddressFamily]
    public var routeRefresh: Bool
    public var extendedMessages: Bool
    /// Our graceful restart capability (restart time, R bit after our own restart, F bits).
    public var gracefulRestart: GracefulRestartCapability?
    /// Wait for the peer to connect instead of connecting (PassiveTcpEstablishment).
    public var passive: Bool

    public init(localAS: UInt32, peerAS: UInt32?, bgpIdentifier: UInt32, holdTime: UInt16 = 90,
                minimumHoldTime: UInt16 = 3, acceptZeroHoldTime: Bool = true, connectRetrySeconds: Int = 120,
                largeHoldSeconds: Int = 240, idleHoldSeconds: Int? = 5,
                families: [AddressFamily] = [.ipv4Unicast], routeRefresh: Bool = true,
                extendedMessages: Bool = false, gracefulRestart: GracefulRestartCapability? = nil, passive: Bool = false) {
        self.localAS = localAS
        self.peerAS = peerAS
        self.bgpIdentifier = bgpIdentifier
        // RFC 4271 4.2: a hold time is 0 or at least 3 seconds.
        self.holdTime = holdTime == 0 ? 0 : max(3, holdTime)
        self.minimumHoldTime = max(3, minimumHoldTime)
        self.acceptZeroHoldTime = acceptZeroHoldTime
        self.connectRetrySeconds = connectRetrySeconds
        self.largeHoldSeconds = largeHoldSeconds
        self.idleHoldSeconds = idleHoldSeconds
        self.families = families
        self.routeRefresh = routeRefresh
        self.extendedMessages = extendedMessages
        self.gracefulRestart = gracefulRestart
        self.passive = passive
    }

    /// The OPEN we send: multiprotocol for each family, then the optional capabilities and
    /// 4-octet AS (always; My AS becomes AS_TRANS when needed).
    public var openMessage: OpenMessage {
        var caps: [Capability] = families.map { .multiprotocol($0) }
        if routeRefresh { caps.append(.routeRefresh) }
        if extendedMessages { caps.append(.extendedMessage) }
        if let gr = gracefulRestart { caps.append(.gracefulRestart(gr)) }
        return OpenMessage(asn: localAS, holdTime: holdTime, bgpIdentifier: bgpIdentifier, capabilities: caps)
    }
}
