/// ROUTE-REFRESH (RFC 2918; the subtype octet is RFC 7313's, 0 for a plain refresh).
public struct RouteRefreshMessage: Hashable, Sendable {
    public var family: AddressFamily
    public var subtype: UInt8
    public init(family: AddressFamily, subtype: UInt8 = 0) {
        self.family = family
        self.subtype = subtype
    }
}

public enum MessageType: UInt8, Sendable {
    case open = 1
    case update = 2
    case notification = 3
    case keepalive = 4
    case routeRefresh = 5
}

/// One BGP message. Encoding and decoding are pure; decoding failures are the NOTIFICATION to send.
public enum BGPMessage: Hashable, Sendable {
    case open(OpenMessage)
    case update(UpdateMessage)
    case notification(NotificationMessage)
    case keepalive
    case routeRefresh(RouteRefreshMessage)

    public static let headerLength = 19
    public static let marker = [UInt8](repeating: 0xFF, count: 16)

    public var type: MessageType {
        switch self {
        case .open: return .open
        case .update: return .update
        case .notification: return .notification
        case .keepalive: return .keepalive
        case .routeRefresh: return .routeRefresh
        }
    }

    /// The complete message: marker, length, type, body.
    public func encode(context: WireContext = WireContext()) -> [UInt8] {
        var w = WireWriter(capacity: 64)
        w.append(Self.marker)
        w.u16(0)
        w.u8(type.rawValue)
        switch self {
        case .open(let m): m.encodeBody(into: &w)
        case .update(let m): m.encodeBody(into: &w, context: context)
        case .notification(let m): m.encodeBody(into: &w)
        case .keepalive: break
        case .routeRefresh(let m):
            w.u16(m.family.afi.rawValue); w.u8(m.subtype); w.u8(m.family.safi.rawValue)
        }
        w.patchU16(at: 16, UInt16(clamping: w.count))
        return w.bytes
    }

    /// The smallest legal length for each type (RFC 4271 4.1-4.5, RFC 2918 3).
    static func minimumLength(_ type: MessageType) -> Int {
        switch type {
        case .open: return 29
        case .update: return 23
        case .notification: return 21
        case .keepalive: return 19
        case .routeRefresh: return 23
        }
    }

    /// Checks a header (the first 19 octets) and returns the type and total length.
    /// RFC 4271 6.1: bad marker, bad length (data: the length field), bad type (data: the type).
    public static func checkHeader(_ bytes: [UInt8], context: WireContext) throws(NotificationMessage) -> (MessageType, Int) {
        guard bytes.count >= headerLength else { throw NotificationMessage(.messageHeader(.badMessageLength)) }
        for i in 0..<16 where bytes[i] != 0xFF {
            throw NotificationMessage(.messageHeader(.connectionNotSynchronized))
        }
        let length = Int(bytes[16]) << 8 | Int(bytes[17])
        let badLength = NotificationMessage(.messageHeader(.badMessageLength), data: [bytes[16], bytes[17]])
        guard length >= headerLength, length <= context.maxMessageLength else { throw badLength }
        guard let type = MessageType(rawValue: bytes[18]) else {
            throw NotificationMessage(.messageHeader(.badMessageType), data: [bytes[18]])
        }
        // RFC 8654 4: OPEN and KEEPALIVE stay within 4,096 octets even when extended.
        let limit = type == .open || type == .keepalive ? WireContext.standardMaxLength : context.maxMessageLength
        switch type {
        case .keepalive: guard length == headerLength else { throw badLength }
        case .routeRefresh: break // its own error code, checked with the body
        default: guard length >= minimumLength(type), length <= limit else { throw badLength }
        }
        return (type, length)
    }

    /// Decodes exactly one complete message. UPDATE errors that RFC 7606 does not escalate are in
    /// the update's `problems`; everything else is thrown as the NOTIFICATION to send.
    public static func decode(_ bytes: [UInt8], context: WireContext = WireContext()) throws(NotificationMessage) -> BGPMessage {
        let (type, length) = try checkHeader(bytes, context: context)
        guard bytes.count == length else {
            throw NotificationMessage(.messageHeader(.badMessageLength), data: [bytes[16], bytes[17]])
        }
        var r = WireReader(bytes)
        _ = r.sub(headerLength)
        switch type {
        case .open:
            return .open(try OpenMessage.decodeBody(&r))
        case .update:
            return .update(try UpdateMessage.decodeBody(&r, context: context))
        case .notification:
            guard let n = NotificationMessage.decodeBody(&r) else { throw NotificationMessage(.messageHeader(.badMessageLength)) }
            return .notification(n)
        case .keepalive:
            return .keepalive
        case .routeRefresh:
            guard length == 23, let afi = r.u16(), let sub = r.u8(), let safi = r.u8() else {
                throw NotificationMessage(.routeRefresh(.invalidMessageLength), data: bytes)
            }
            return .routeRefresh(RouteRefreshMessage(family: AddressFamily(afi: .init(rawValue: afi), safi: .init(rawValue: safi)), subtype: sub))
        }
    }
}
