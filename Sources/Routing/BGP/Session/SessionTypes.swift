/// RFC 4271 8.2.2 session states.
public enum SessionState: String, Hashable, Sendable, CaseIterable {
    case idle = "Idle"
    case connect = "Connect"
    case active = "Active"
    case openSent = "OpenSent"
    case openConfirm = "OpenConfirm"
    case established = "Established"
}

/// The timers the state machine asks its driver to run (RFC 4271 8.1.3, IdleHold from 8.1.1).
public enum SessionTimer: Hashable, Sendable, CaseIterable {
    case connectRetry
    case hold
    case keepalive
    /// Delay before an automatic restart after the session went to Idle on an error.
    case idleHold
}

/// Which side opened a TCP connection.
public enum ConnectionOrigin: Hashable, Sendable {
    /// We connected to the peer.
    case outbound
    /// The peer connected to us.
    case inbound
}

/// Inputs to the state machine (RFC 4271 8.1; the numbers are the RFC's event numbers).
public enum SessionEvent: Hashable, Sendable {
    /// 1: start, actively connecting.
    case manualStart
    /// 2: stop; the NOTIFICATION defaults to Cease/Administrative Shutdown. Use
    /// `NotificationMessage.cease(_:communication:)` for an RFC 8203 message.
    case manualStop(NotificationMessage?)
    /// 3: start after an idle-hold timeout (same as manualStart, but counts as automatic).
    case automaticStart
    /// 8: stop because of a local condition (e.g. Cease / Maximum Number of Prefixes Reached);
    /// unlike manualStop the session restarts after the idle-hold time.
    case automaticStop(NotificationMessage)
    /// 4: start, waiting for the peer to connect.
    case manualStartPassive
    /// 9, 10, 11 and the idle-hold timer.
    case timerExpired(SessionTimer)
    /// 16/17: a TCP connection to the peer is up (outbound: we connected; inbound: we accepted).
    case tcpConnected(ConnectionOrigin)
    /// 18: the TCP connection failed or was closed by the peer.
    case tcpConnectionFails
    /// 19, 24-27: a well-formed message arrived.
    case messageReceived(BGPMessage)
    /// 21, 22, 28: a message failed to decode; the NOTIFICATION is what to send.
    case decodeError(NotificationMessage)
    /// 23: collision detection chose to close this connection.
    case openCollisionDump
}

/// Why an established session (or an attempt at one) ended.
public enum SessionDownReason: Hashable, Sendable {
    case manualStop(NotificationMessage)
    case holdTimerExpired
    /// We sent this NOTIFICATION because of a peer error (decode, OPEN validation, FSM).
    case notificationSent(NotificationMessage)
    /// The peer sent this NOTIFICATION.
    case notificationReceived(NotificationMessage)
    case connectionFailed
    /// Collision detection closed this connection (for an Established one: the peer restarted).
    case collision

    /// RFC 4724 / RFC 8538: a restarting peer's routes are kept unless the session ended by a
    /// NOTIFICATION (all NOTIFICATIONs without the N bit; only Hard Reset with it).
    public func allowsGracefulRestart(notificationBit: Bool) -> Bool {
        switch self {
        case .holdTimerExpired: return notificationBit
        case .connectionFailed: return true
        case .notificationSent(let n), .notificationReceived(let n):
            return notificationBit && n.error != .cease(.hardReset)
        case .collision: return true // an Established session is displaced only by a restarted GR peer
        case .manualStop: return false
        }
    }
}

/// Outputs the driver must perform, in order.
public enum SessionAction: Hashable, Sendable {
    /// Open a TCP connection to the peer.
    case connect
    case send(BGPMessage)
    case startTimer(SessionTimer, seconds: Int)
    case stopTimer(SessionTimer)
    /// Close the TCP connection (after sending whatever was queued).
    case closeConnection
    /// The session reached Established with these negotiated parameters.
    case established(NegotiatedSession)
    /// The Established session ended; the RIB drops (or, with graceful restart, keeps) its routes.
    case down(SessionDownReason)
    /// An UPDATE for the RIB (its `problems` tell which routes RFC 7606 treats as withdrawn).
    case deliver(UpdateMessage)
    /// The peer asked to have our routes of this family sent again (RFC 2918).
    case routeRefreshRequested(AddressFamily)
}
