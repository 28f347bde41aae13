/// Path attribute type codes this codec knows.
public enum AttributeType: UInt8, Sendable, CaseIterable {
    case origin = 1
    case asPath = 2
    case nextHop = 3
    case multiExitDisc = 4
    case localPref = 5
    case atomicAggregate = 6
    case aggregator = 7
    case communities = 8
    case originatorID = 9
    case clusterList = 10
    case mpReachNLRI = 14
    case mpUnreachNLRI = 15
    case as4Path = 17
    case as4Aggregator = 18

    /// The Optional and Transitive bits RFC 4271 / 4456 / 4760 / 6793 fix for each attribute.
    public var requiredFlags: UInt8 {
        switch self {
        case .origin, .asPath, .nextHop, .localPref, .atomicAggregate: return AttributeFlags.transitive
        case .aggregator, .communities, .as4Path, .as4Aggregator: return AttributeFlags.optional | AttributeFlags.transitive
        case .multiExitDisc, .originatorID, .clusterList, .mpReachNLRI, .mpUnreachNLRI: return AttributeFlags.optional
        }
    }
}

public enum AttributeFlags {
    public static let optional: UInt8 = 0x80
    public static let transitive: UInt8 = 0x40
    public static let partial: UInt8 = 0x20
    public static let extendedLength: UInt8 = 0x10
}

public enum Origin: UInt8, Sendable, Comparable {
    case igp = 0
    case egp = 1
    case incomplete = 2
    public static func < (a: Origin, b: Origin) -> Bool { a.rawValue < b.rawValue }
}

/// AGGREGATOR (RFC 4271 5.1.7) with the AS held at 4 octets.
public struct Aggregator: Hashable, Sendable {
    public var asn: UInt32
    public var address: UInt32
    public init(asn: UInt32, address: UInt32) {
        self.asn = asn
        self.address = address
    }
}

/// MP_REACH_NLRI (RFC 4760 3) for IPv4/IPv6 unicast. An IPv6 next hop may carry a link-local
/// address as well (RFC 2545 3).
public struct MPReach: Hashable, Sendable {
    public var family: AddressFamily
    public var nextHop: IPAddress
    public var linkLocalNextHop: IPAddress?
    public var nlri: [IPPrefix]
    public init(family: AddressFamily, nextHop: IPAddress, linkLocalNextHop: IPAddress? = nil, nlri: [IPPrefix]) {
        self.family = family
        self.nextHop = nextHop
        self.linkLocalNextHop = linkLocalNextHop
        self.nlri = nlri
    }
}

/// MP_UNREACH_NLRI (RFC 4760 4).
public struct MPUnreach: Hashable, Sendable {
    public var family: AddressFamily
    public var withdrawn: [IPPrefix]
    public init(family: AddressFamily, withdrawn: [IPPrefix]) {
        self.family = family
        self.withdrawn = withdrawn
    }
}

/// An attribute this codec does not interpret, kept to be passed on.
public struct RawAttribute: Hashable, Sendable {
    public var flags: UInt8
    public var type: UInt8
    public var value: [UInt8]
    public init(flags: UInt8, type: UInt8, value: [UInt8]) {
        self.flags = flags
        self.type = type
        self.value = value
    }
}

/// The path attributes of one UPDATE. AS numbers are always 4-octet here: AS4_PATH and
/// AS4_AGGREGATOR exist only on the wire to 2-octet peers and are merged or produced by the codec.
public struct PathAttributes: Hashable, Sendable {
    public var origin: Origin?
    public var asPath: ASPath?
    public var nextHop: IPAddress?
    public var multiExitDisc: UInt32?
    public var localPref: UInt32?
    public var atomicAggregate: Bool
    public var aggregator: Aggregator?
    public var communities: [UInt32]?
    public var originatorID: UInt32?
    public var clusterList: [UInt32]?
    public var mpReach: MPReach?
    public var mpUnreach: MPUnreach?
    /// Unrecognised optional transitive attributes (their Partial bit already set).
    public var unknown: [RawAttribute]

    public init(origin: Origin? = nil, asPath: ASPath? = nil, nextHop: IPAddress? = nil, multiExitDisc: UInt32? = nil,
                localPref: UInt32? = nil, atomicAggregate: Bool = false, aggregator: Aggregator? = nil,
                communities: [UInt32]? = nil, originatorID: UInt32? = nil, clusterList: [UInt32]? = nil,
                mpReach: MPReach? = nil, mpUnreach: MPUnreach? = nil, unknown: [RawAttribute] = []) {
        self.origin = origin
        self.asPath = asPath
        self.nextHop = nextHop
        self.multiExitDisc = multiExitDisc
        self.localPref = localPref
        self.atomicAggregate = atomicAggregate
        self.aggregator = aggregator
        self.communities = communities
        self.originatorID = originatorID
        self.clusterList = clusterList
        self.mpReach = mpReach
        self.mpUnreach = mpUnreach
        self.unknown = unknown
    }

    public var isEmpty: Bool { self == PathAttributes() }

    static func writeAttribute(_ flags: UInt8, _ type: UInt8, _ value: [UInt8], into w: inout WireWriter) {
        let extended = value.count > 255
        w.u8(extended ? flags | AttributeFlags.extendedLength : flags & ~AttributeFlags.extendedLength)
        w.u8(type)
        if extended { w.u16(UInt16(clamping: value.count)) } else { w.u8(UInt8(value.count)) }
        w.append(value.prefix(Int(UInt16.max)))
    }

    private static func write(_ type: AttributeType, into w: inout WireWriter, _ body: (inout WireWriter) -> Void) {
        var v = WireWriter()
        body(&v)
        writeAttribute(type.requiredFlags, type.rawValue, v.bytes, into: &w)
    }

    /// Encodes MP attributes first (RFC 7606 5.1), then the rest by type code. To a 2-octet
    /// peer, 4-octet AS numbers become AS_TRANS and AS4_PATH / AS4_AGGREGATOR carry the truth.
    public func encode(into w: inout WireWriter, fourOctetAS: Bool) {
        if let mp = mpReach {
            Self.write(.mpReachNLRI, into: &w) { v in
                v.u16(mp.family.afi.rawValue); v.u8(mp.family.safi.rawValue)
                let hops = [mp.nextHop] + (mp.linkLocalNextHop.map { [$0] } ?? [])
                let bytes = hops.flatMap(\.bytes)
                v.u8(UInt8(bytes.count)); v.append(bytes); v.u8(0)
                for p in mp.nlri { p.encode(into: &v) }
            }
        }
        if let mp = mpUnreach {
            Self.write(.mpUnreachNLRI, into: &w) { v in
                v.u16(mp.family.afi.rawValue); v.u8(mp.family.safi.rawValue)
                for p in mp.withdrawn { p.encode(into: &v) }
            }
        }
        if let origin { Self.write(.origin, into: &w) { $0.u8(origin.rawValue) } }
        if let asPath { Self.write(.asPath, into: &w) { asPath.encode(into: &$0, fourOctet: fourOctetAS) } }
        if case .v4(let a)? = nextHop { Self.write(.nextHop, into: &w) { $0.u32(a) } }
        if let multiExitDisc { Self.write(.multiExitDisc, into: &w) { $0.u32(multiExitDisc) } }
        if let localPref { Self.write(.localPref, into: &w) { $0.u32(localPref) } }
        if atomicAggregate { Self.write(.atomicAggregate, into: &w) { _ in } }
        if let ag = aggregator {
            Self.write(.aggregator, into: &w) { v in
                if fourOctetAS { v.u32(ag.asn) } else { v.u16(ag.asn > 0xFFFF ? OpenMessage.asTrans : UInt16(ag.asn)) }
                v.u32(ag.address)
            }
        }
        if let communities { Self.write(.communities, into: &w) { v in communities.forEach { v.u32($0) } } }
        if let originatorID { Self.write(.originatorID, into: &w) { $0.u32(originatorID) } }
        if let clusterList { Self.write(.clusterList, into: &w) { v in clusterList.forEach { v.u32($0) } } }
        if !fourOctetAS, let asPath, asPath.needsFourOctets {
            // RFC 6793 3: AS4_PATH never carries confederation segments.
            let as4 = ASPath(asPath.segments.filter { $0.type == .sequence || $0.type == .set })
            Self.write(.as4Path, into: &w) { as4.encode(into: &$0, fourOctet: true) }
        }
        if !fourOctetAS, let ag = aggregator, ag.asn > 0xFFFF {
            Self.write(.as4Aggregator, into: &w) { $0.u32(ag.asn); $0.u32(ag.address) }
        }
        for raw in unknown { Self.writeAttribute(raw.flags, raw.type, raw.value, into: &w) }
    }
}

extension PathAttributes {
    /// RFC 4456 8: a reflected route that carries our router ID as ORIGINATOR_ID, or our cluster
    /// ID in CLUSTER_LIST, has looped and must be ignored.
    public func isReflectionLoop(routerID: UInt32, clusterID: UInt32?) -> Bool {
        if originatorID == routerID { return true }
        if let clusterID, clusterList?.contains(clusterID) == true { return true }
        return false
    }

    /// RFC 4456 8: what a route reflector adds when reflecting a route learned from `originator`
    /// (the peer's BGP identifier): ORIGINATOR_ID if absent, and its cluster ID prepended.
    public func reflected(originator: UInt32, clusterID: UInt32) -> PathAttributes {
        var copy = self
        if copy.originatorID == nil { copy.originatorID = originator }
        copy.clusterList = [clusterID] + (clusterList ?? [])
        return copy
    }
}
