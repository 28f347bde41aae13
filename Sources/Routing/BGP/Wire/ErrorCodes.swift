// NOTIFICATION error codes and subcodes: RFC 4271 section 4.5 and 6, plus the subcodes later RFCs
// and the IANA registry added (RFC 5492, RFC 4486, RFC 6608, RFC 7313, RFC 8538).

public enum MessageHeaderSubcode: UInt8, Sendable, CaseIterable {
    case unspecific = 0
    case connectionNotSynchronized = 1
    case badMessageLength = 2
    case badMessageType = 3
}

public enum OpenMessageSubcode: UInt8, Sendable, CaseIterable {
    case unspecific = 0
    case unsupportedVersionNumber = 1
    case badPeerAS = 2
    case badBGPIdentifier = 3
    case unsupportedOptionalParameter = 4
    case unacceptableHoldTime = 6
    case unsupportedCapability = 7
}

public enum UpdateMessageSubcode: UInt8, Sendable, CaseIterable {
    case unspecific = 0
    case malformedAttributeList = 1
    case unrecognizedWellKnownAttribute = 2
    case missingWellKnownAttribute = 3
    case attributeFlagsError = 4
    case attributeLengthError = 5
    case invalidOriginAttribute = 6
    case invalidNextHopAttribute = 8
    case optionalAttributeError = 9
    case invalidNetworkField = 10
    case malformedASPath = 11
}

/// RFC 6608 subcodes of the Finite State Machine Error.
public enum FSMErrorSubcode: UInt8, Sendable, CaseIterable {
    case unspecified = 0
    case unexpectedMessageInOpenSent = 1
    case unexpectedMessageInOpenConfirm = 2
    case unexpectedMessageInEstablished = 3
}

/// RFC 4486 / RFC 8538 subcodes of Cease.
public enum CeaseSubcode: UInt8, Sendable, CaseIterable {
    case unspecific = 0
    case maximumPrefixesReached = 1
    case administrativeShutdown = 2
    case peerDeconfigured = 3
    case administrativeReset = 4
    case connectionRejected = 5
    case otherConfigurationChange = 6
    case connectionCollisionResolution = 7
    case outOfResources = 8
    case hardReset = 9
}

/// RFC 7313 subcode of ROUTE-REFRESH Message Error.
public enum RouteRefreshSubcode: UInt8, Sendable, CaseIterable {
    case unspecific = 0
    case invalidMessageLength = 1
}

/// A NOTIFICATION's (code, subcode) as one typed value; codes or subcodes we do not know are kept.
public enum BGPErrorCode: Hashable, Sendable {
    case messageHeader(MessageHeaderSubcode)
    case openMessage(OpenMessageSubcode)
    case updateMessage(UpdateMessageSubcode)
    case holdTimerExpired
    case finiteStateMachine(FSMErrorSubcode)
    case cease(CeaseSubcode)
    case routeRefresh(RouteRefreshSubcode)
    case other(code: UInt8, subcode: UInt8)

    public init(code: UInt8, subcode: UInt8) {
        let typed: BGPErrorCode?
        switch code {
        case 1: typed = MessageHeaderSubcode(rawValue: subcode).map { .messageHeader($0) }
        case 2: typed = OpenMessageSubcode(rawValue: subcode).map { .openMessage($0) }
        case 3: typed = UpdateMessageSubcode(rawValue: subcode).map { .updateMessage($0) }
        case 4: typed = subcode == 0 ? .holdTimerExpired : nil
        case 5: typed = FSMErrorSubcode(rawValue: subcode).map { .finiteStateMachine($0) }
        case 6: typed = CeaseSubcode(rawValue: subcode).map { .cease($0) }
        case 7: typed = RouteRefreshSubcode(rawValue: subcode).map { .routeRefresh($0) }
        default: typed = nil
        }
        self = typed ?? .other(code: code, subcode: subcode)
    }

    public var code: UInt8 {
        switch self {
        case .messageHeader: return 1
        case .openMessage: return 2
        case .updateMessage: return 3
        case .holdTimerExpired: return 4
        case .finiteStateMachine: return 5
        case .cease: return 6
        case .routeRefresh: return 7
        case .other(let code, _): return code
        }
    }

    public var subcode: UInt8 {
        switch self {
        case .messageHeader(let s): return s.rawValue
        case .openMessage(let s): return s.rawValue
        case .updateMessage(let s): return s.rawValue
        case .holdTimerExpired: return 0
        case .finiteStateMachine(let s): return s.rawValue
        case .cease(let s): return s.rawValue
        case .routeRefresh(let s): return s.rawValue
        case .other(_, let subcode): return subcode
        }
    }
}
