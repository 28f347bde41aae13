/// The OPEN message (RFC 4271 4.2) with its capabilities (RFC 5492).
public struct OpenMessage: Hashable, Sendable {
    /// RFC 6793: the 2-octet My AS field carries this when the real AS does not fit.
    public static let asTrans: UInt16 = 23456

    public var version: UInt8
    /// The 2-octet My Autonomous System field as sent (AS_TRANS for 4-octet ASes).
    public var myAS: UInt16
    public var holdTime: UInt16
    public var bgpIdentifier: UInt32
    public var capabilities: [Capability]

    public init(version: UInt8 = 4, myAS: UInt16, holdTime: UInt16, bgpIdentifier: UInt32, capabilities: [Capability]) {
        self.version = version
        self.myAS = myAS
        self.holdTime = holdTime
        self.bgpIdentifier = bgpIdentifier
        self.capabilities = capabilities
    }

    /// An OPEN for a speaker in `asn`: sets My AS (AS_TRANS when it needs 4 octets) and always
    /// advertises the 4-octet AS capability with the real number.
    public init(asn: UInt32, holdTime: UInt16, bgpIdentifier: UInt32, capabilities: [Capability]) {
        let two = asn <= UInt32(UInt16.max) ? UInt16(asn) : OpenMessage.asTrans
        var caps = capabilities.filter { if case .fourOctetAS = $0 { return false } else { return true } }
        caps.append(.fourOctetAS(asn))
        self.init(myAS: two, holdTime: holdTime, bgpIdentifier: bgpIdentifier, capabilities: caps)
    }

    /// The sender's real AS: the 4-octet capability if present, else My AS.
    public var asNumber: UInt32 {
        for case .fourOctetAS(let asn) in capabilities { return asn }
        return UInt32(myAS)
    }

    public var supportsFourOctetAS: Bool { capabilities.contains { if case .fourOctetAS = $0 { return true } else { return false } } }
    public var supportsRouteRefresh: Bool { capabilities.contains(.routeRefresh) }
    public var supportsExtendedMessage: Bool { capabilities.contains(.extendedMessage) }
    public var gracefulRestart: GracefulRestartCapability? {
        for case .gracefulRestart(let gr) in capabilities { return gr }
        return nil
    }
    /// Multiprotocol families; per RFC 4760 a speaker that sends none supports IPv4 unicast only.
    public var families: [AddressFamily] {
        var out: [AddressFamily] = []
        for case .multiprotocol(let f) in capabilities where !out.contains(f) { out.append(f) }
        let anyMP = capabilities.contains { if case .multiprotocol = $0 { return true } else { return false } }
        return anyMP ? out : [.ipv4Unicast]
    }

    func encodeBody(into w: inout WireWriter) {
        w.u8(version); w.u16(myAS); w.u16(holdTime); w.u32(bgpIdentifier)
        // One Capabilities optional parameter (type 2) holding every capability.
        var caps = WireWriter()
        for c in capabilities { c.encode(into: &caps) }
        if caps.count == 0 {
            w.u8(0)
        } else if caps.count + 2 <= 255 {
            w.u8(UInt8(caps.count + 2)); w.u8(2); w.u8(UInt8(caps.count)); w.append(caps.bytes)
        } else {
            // RFC 9072 extended optional parameters: 255, 255, 2-octet length; 2-octet param lengths.
            w.u8(255); w.u8(255); w.u16(UInt16(caps.count + 3)); w.u8(2); w.u16(UInt16(caps.count)); w.append(caps.bytes)
        }
    }

    /// Decodes and checks the syntax RFC 4271 6.2 prescribes; the checks that need local
    /// configuration (peer AS, own identifier, hold-time policy) are the session's.
    static func decodeBody(_ r: inout WireReader) throws(NotificationMessage) -> OpenMessage {
        guard let version = r.u8(), let myAS = r.u16(), let hold = r.u16(), let id = r.u32(),
              var paramLen = r.u8().map(Int.init)
        else { throw NotificationMessage(.messageHeader(.badMessageLength)) }
        guard version == 4 else {
            throw NotificationMessage(.openMessage(.unsupportedVersionNumber), data: [0, 4])
        }
        var extended = false
        if paramLen == 255, r.remaining >= 3, r.bytes[r.index] == 255 {
            _ = r.u8(); paramLen = Int(r.u16()!); extended = true
        }
        guard var params = r.sub(paramLen), r.isAtEnd else {
            throw NotificationMessage(.openMessage(.unspecific))
        }
        var caps: [Capability] = []
        while !params.isAtEnd {
            let start = params.index
            guard let type = params.u8(), let len = extended ? params.u16().map(Int.init) : params.u8().map(Int.init),
                  var value = params.sub(len)
            else { throw NotificationMessage(.openMessage(.unspecific)) }
            guard type == 2 else {
                throw NotificationMessage(.openMessage(.unsupportedOptionalParameter),
                                          data: params.slice(from: start, to: params.index))
            }
            while !value.isAtEnd {
                guard let code = value.u8(), let clen = value.u8(), let cval = value.take(Int(clen)) else {
                    throw NotificationMessage(.openMessage(.unspecific))
                }
                caps.append(try Capability.decode(code: code, value: cval))
            }
        }
        if hold == 1 || hold == 2 {
            throw NotificationMessage(.openMessage(.unacceptableHoldTime))
        }
        // RFC 6286: any non-zero identifier is valid.
        guard id != 0 else { throw NotificationMessage(.openMessage(.badBGPIdentifier)) }
        return OpenMessage(version: version, myAS: myAS, holdTime: hold, bgpIdentifier: id, capabilities: caps)
    }
}
