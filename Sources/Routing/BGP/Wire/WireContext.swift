/// What the session negotiated, which changes how messages are framed and decoded.
public struct WireContext: Hashable, Sendable {
    /// RFC 6793 negotiated: AS_PATH and AGGREGATOR carry 4-octet AS numbers.
    public var fourOctetAS: Bool
    /// RFC 8654 negotiated: messages other than OPEN and KEEPALIVE may be up to 65,535 octets.
    public var extendedMessages: Bool
    /// The peer is in another AS (eBGP): LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST from it are discarded.
    public var externalPeer: Bool
    /// When set for an eBGP peer, routes whose AS_PATH does not start with it are treated as
    /// withdrawn (RFC 4271 6.3 Malformed AS_PATH, RFC 7606 7.2).
    public var peerAS: UInt32?
    /// RFC 7606 (default). When false, every attribute error resets the session as RFC 4271 did.
    public var revisedErrorHandling: Bool

    public init(fourOctetAS: Bool = true, extendedMessages: Bool = false, externalPeer: Bool = false,
                peerAS: UInt32? = nil, revisedErrorHandling: Bool = true) {
        self.fourOctetAS = fourOctetAS
        self.extendedMessages = extendedMessages
        self.externalPeer = externalPeer
        self.peerAS = peerAS
        self.revisedErrorHandling = revisedErrorHandling
    }

    public static let standardMaxLength = 4096
    public static let extendedMaxLength = 65535
    public var maxMessageLength: Int { extendedMessages ? Self.extendedMaxLength : Self.standardMaxLength }
}

/// RFC 7606 2: how an error in an UPDATE is handled, from least to most severe.
public enum ErrorAction: Int, Hashable, Sendable, Comparable {
    case attributeDiscard = 0
    case treatAsWithdraw = 1
    case sessionReset = 2
    public static func < (a: ErrorAction, b: ErrorAction) -> Bool { a.rawValue < b.rawValue }
}

/// One error found in an UPDATE that did not reset the session: the action RFC 7606 chose and the
/// NOTIFICATION RFC 4271 would have sent (useful for logs and for strict mode).
public struct AttributeProblem: Hashable, Sendable {
    public var action: ErrorAction
    public var notification: NotificationMessage
    public init(action: ErrorAction, notification: NotificationMessage) {
        self.action = action
        self.notification = notification
    }
}
