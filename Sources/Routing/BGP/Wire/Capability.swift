/// RFC 4724 graceful restart capability contents.
public struct GracefulRestartCapability: Hashable, Sendable {
    public struct Family: Hashable, Sendable {
        public var family: AddressFamily
        /// The F bit: forwarding state for this family was preserved across the restart.
        public var forwardingPreserved: Bool
        public init(_ family: AddressFamily, forwardingPreserved: Bool) {
            self.family = family
            self.forwardingPreserved = forwardingPreserved
        }
    }

    /// The R bit: the sender has restarted.
    public var restarting: Bool
    /// The N bit (RFC 8538): the sender supports graceful restart for notifications.
    public var notification: Bool
    /// Seconds, 12 bits (at most 4095).
    public var restartTime: UInt16
    public var families: [Family]

    public init(restarting: Bool = false, notification: Bool = false, restartTime: UInt16, families: [Family]) {
        self.restarting = restarting
        self.notification = notification
        self.restartTime = min(restartTime, 0x0FFF)
        self.families = families
    }
}

/// A capability advertised in OPEN (RFC 5492). Unknown codes are kept verbatim.
public enum Capability: Hashable, Sendable {
    case multiprotocol(AddressFamily)               // code 1, RFC 4760
    case routeRefresh                               // code 2, RFC 2918
    case extendedMessage                            // code 6, RFC 8654
    case gracefulRestart(GracefulRestartCapability) // code 64, RFC 4724
    case fourOctetAS(UInt32)                        // code 65, RFC 6793
    case unknown(code: UInt8, value: [UInt8])

    public var code: UInt8 {
        switch self {
        case .multiprotocol: return 1
        case .routeRefresh: return 2
        case .extendedMessage: return 6
        case .gracefulRestart: return 64
        case .fourOctetAS: return 65
        case .unknown(let code, _): return code
        }
    }

    func encodeValue(into w: inout WireWriter) {
        switch self {
        case .multiprotocol(let f):
            w.u16(f.afi.rawValue); w.u8(0); w.u8(f.safi.rawValue)
        case .routeRefresh, .extendedMessage:
            break
        case .gracefulRestart(let gr):
            var head = gr.restartTime & 0x0FFF
            if gr.restarting { head |= 0x8000 }
            if gr.notification { head |= 0x4000 }
            w.u16(head)
            for f in gr.families {
                w.u16(f.family.afi.rawValue); w.u8(f.family.safi.rawValue); w.u8(f.forwardingPreserved ? 0x80 : 0)
            }
        case .fourOctetAS(let asn):
            w.u32(asn)
        case .unknown(_, let value):
            w.append(value)
        }
    }

    /// Code, length and value; the length is one octet, so values longer than 255 are cut.
    public func encode(into w: inout WireWriter) {
        var value = WireWriter()
        encodeValue(into: &value)
        let bytes = value.bytes.prefix(255)
        w.u8(code); w.u8(UInt8(bytes.count)); w.append(bytes)
    }

    /// Decodes one capability value. A known capability with a length its RFC forbids is an
    /// OPEN error (subcode unspecific, data the offending capability TLV).
    static func decode(code: UInt8, value: [UInt8]) throws(NotificationMessage) -> Capability {
        var r = WireReader(value)
        let malformed = NotificationMessage(.openMessage(.unspecific), data: [code, UInt8(truncatingIfNeeded: value.count)] + value)
        switch code {
        case 1:
            guard value.count == 4 else { throw malformed }
            let afi = r.u16()!; _ = r.u8(); let safi = r.u8()!
            return .multiprotocol(AddressFamily(afi: .init(rawValue: afi), safi: .init(rawValue: safi)))
        case 2:
            guard value.isEmpty else { throw malformed }
            return .routeRefresh
        case 6:
            guard value.isEmpty else { throw malformed }
            return .extendedMessage
        case 64:
            guard value.count >= 2, (value.count - 2) % 4 == 0 else { throw malformed }
            let head = r.u16()!
            var families: [GracefulRestartCapability.Family] = []
            while !r.isAtEnd {
                let afi = r.u16()!, safi = r.u8()!, flags = r.u8()!
                families.append(.init(AddressFamily(afi: .init(rawValue: afi), safi: .init(rawValue: safi)),
                                      forwardingPreserved: flags & 0x80 != 0))
            }
            return .gracefulRestart(GracefulRestartCapability(
                restarting: head & 0x8000 != 0, notification: head & 0x4000 != 0,
                restartTime: head & 0x0FFF, families: families))
        case 65:
            guard value.count == 4 else { throw malformed }
            return .fourOctetAS(r.u32()!)
        default:
            return .unknown(code: code, value: value)
        }
    }
}
