/// What two OPENs agreed on (RFC 4271 4.2, RFC 5492 capabilities).
public struct NegotiatedSession: Hashable, Sendable {
    public var peerOpen: OpenMessage
    public var peerAS: UInt32
    public var peerIdentifier: UInt32
    /// min(ours, theirs); 0 means no hold timer and no keepalives.
    public var holdTime: UInt16
    public var keepaliveTime: UInt16 { holdTime / 3 }
    public var fourOctetAS: Bool
    /// The families both sides advertised, in our configured order.
    public var families: [AddressFamily]
    public var routeRefresh: Bool
    public var extendedMessages: Bool
    /// The peer's graceful restart capability, when both sides advertised one.
    public var peerGracefulRestart: GracefulRestartCapability?
    public var externalPeer: Bool

    /// How to frame and decode this session's messages.
    public var wireContext: WireContext {
        WireContext(fourOctetAS: fourOctetAS, extendedMessages: extendedMessages, externalPeer: externalPeer,
                    peerAS: externalPeer ? peerAS : nil)
    }
}

public enum OpenNegotiation {
    /// Validates the peer's OPEN against our configuration (the checks the decoder cannot do) and
    /// negotiates. Throws the NOTIFICATION to send: Bad Peer AS, Bad BGP Identifier,
    /// Unacceptable Hold Time.
    public static func negotiate(peer: OpenMessage, config: SessionConfig) throws(NotificationMessage) -> NegotiatedSession {
        let peerAS = peer.asNumber
        // RFC 6793 4.1: a 4-octet speaker with a 2-octet AS must put it in My AS too.
        if peer.supportsFourOctetAS, peerAS <= 0xFFFF, UInt32(peer.myAS) != peerAS {
            throw NotificationMessage(.openMessage(.badPeerAS))
        }
        if let expected = config.peerAS, expected != peerAS {
            throw NotificationMessage(.openMessage(.badPeerAS))
        }
        let external = peerAS != config.localAS
        // RFC 6286 2.2: identifiers need only differ within an AS.
        if peer.bgpIdentifier == 0 || (!external && peer.bgpIdentifier == config.bgpIdentifier) {
            throw NotificationMessage(.openMessage(.badBGPIdentifier))
        }
        let hold = min(config.holdTime, peer.holdTime)
        if hold == 0 ? !config.acceptZeroHoldTime : hold < config.minimumHoldTime {
            throw NotificationMessage(.openMessage(.unacceptableHoldTime))
        }
        let peerFamilies = peer.families
        return NegotiatedSession(
            peerOpen: peer,
            peerAS: peerAS,
            peerIdentifier: peer.bgpIdentifier,
            holdTime: hold,
            fourOctetAS: peer.supportsFourOctetAS,
            families: config.families.filter(peerFamilies.contains),
            routeRefresh: config.routeRefresh && peer.supportsRouteRefresh,
            extendedMessages: config.extendedMessages && peer.supportsExtendedMessage,
            peerGracefulRestart: config.gracefulRestart == nil ? nil : peer.gracefulRestart,
            externalPeer: external)
    }
}

/// RFC 4271 6.8 connection collision detection, as a pure decision.
public enum CollisionDetection {
    public enum Outcome: Hashable, Sendable {
        /// The existing connection is not far enough along to collide; keep both going.
        case noCollision
        /// Close the existing connection (send Cease / Connection Collision Resolution on it).
        case closeExisting
        /// Close the new connection.
        case closeNew
    }

    /// The connection that survives: the one initiated by the speaker with the higher BGP
    /// Identifier; on equal identifiers (possible between ASes, RFC 6286 2.3) the higher AS.
    public static func survivor(localIdentifier: UInt32, remoteIdentifier: UInt32,
                                localAS: UInt32 = 0, remoteAS: UInt32 = 0) -> ConnectionOrigin {
        if localIdentifier != remoteIdentifier { return localIdentifier > remoteIdentifier ? .outbound : .inbound }
        return localAS > remoteAS ? .outbound : .inbound
    }

    /// Decides what to do when an OPEN (carrying `remoteIdentifier`) arrives on a new connection
    /// while another connection to the same peer is in `existingState`. The peer's identifier is
    /// known from that OPEN, so an existing connection in OpenSent is compared as well.
    /// `gracefulRestartNegotiated`: the existing Established session negotiated graceful restart,
    /// so a new OPEN means the peer restarted and the old session is the dead one (RFC 4724 4.2).
    public static func resolve(existingState: SessionState, existingOrigin: ConnectionOrigin,
                               localIdentifier: UInt32, remoteIdentifier: UInt32,
                               localAS: UInt32 = 0, remoteAS: UInt32 = 0,
                               gracefulRestartNegotiated: Bool = false) -> Outcome {
        switch existingState {
        case .idle, .connect, .active:
            return .noCollision
        case .established:
            return gracefulRestartNegotiated ? .closeExisting : .closeNew
        case .openSent, .openConfirm:
            let keep = survivor(localIdentifier: localIdentifier, remoteIdentifier: remoteIdentifier,
                                localAS: localAS, remoteAS: remoteAS)
            return keep == existingOrigin ? .closeNew : .closeExisting
        }
    }
}
