/// Parses the path attribute field of an UPDATE, classifying each error the way RFC 7606
/// prescribes for that attribute. Session-reset errors are thrown; the rest are collected.
struct AttributeDecoder {
    let context: WireContext
    var attributes = PathAttributes()
    var problems: [AttributeProblem] = []
    private var seen = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    private var as4Path: ASPath?
    private var as4Aggregator: Aggregator?

    init(context: WireContext) { self.context = context }

    /// Records a problem, or throws it when it must reset the session (or strict mode is on).
    mutating func report(_ action: ErrorAction, _ subcode: UpdateMessageSubcode, data: [UInt8] = []) throws(NotificationMessage) {
        let n = NotificationMessage(.updateMessage(subcode), data: data)
        guard context.revisedErrorHandling, action != .sessionReset else { throw n }
        problems.append(AttributeProblem(action: action, notification: n))
    }

    private mutating func markSeen(_ type: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(type & 63)
        func test(_ word: inout UInt64) -> Bool { defer { word |= bit }; return word & bit != 0 }
        switch type >> 6 {
        case 0: return test(&seen.0)
        case 1: return test(&seen.1)
        case 2: return test(&seen.2)
        default: return test(&seen.3)
        }
    }

    /// RFC 7606 7: the action for a malformed instance of each attribute.
    static func malformedAction(_ type: AttributeType) -> ErrorAction {
        switch type {
        case .atomicAggregate, .aggregator, .as4Path, .as4Aggregator: return .attributeDiscard
        case .mpReachNLRI, .mpUnreachNLRI: return .sessionReset
        default: return .treatAsWithdraw
        }
    }

    mutating func decode(_ r: inout WireReader) throws(NotificationMessage) {
        while !r.isAtEnd {
            let start = r.index
            // RFC 7606 4: a header or value running past the field is treat-as-withdraw.
            guard r.remaining >= 3, let flags = r.u8(), let type = r.u8(),
                  let length = flags & AttributeFlags.extendedLength != 0 ? r.u16().map(Int.init) : r.u8().map(Int.init),
                  let value = r.take(length)
            else {
                try report(.treatAsWithdraw, .malformedAttributeList)
                return
            }
            let raw = r.slice(from: start, to: r.index)
            if markSeen(type) {
                let isMP = type == AttributeType.mpReachNLRI.rawValue || type == AttributeType.mpUnreachNLRI.rawValue
                try report(isMP ? .sessionReset : .attributeDiscard, .malformedAttributeList)
                continue
            }
            guard let known = AttributeType(rawValue: type) else {
                if flags & AttributeFlags.optional == 0 {
                    throw NotificationMessage(.updateMessage(.unrecognizedWellKnownAttribute), data: raw)
                }
                if flags & AttributeFlags.transitive != 0 {
                    attributes.unknown.append(RawAttribute(flags: flags | AttributeFlags.partial, type: type, value: value))
                }
                continue
            }
            if flags & (AttributeFlags.optional | AttributeFlags.transitive) != known.requiredFlags {
                let isMP = known == .mpReachNLRI || known == .mpUnreachNLRI
                // MP attributes are still parsed so that their routes can be withdrawn.
                try report(isMP ? .treatAsWithdraw : Self.malformedAction(known), .attributeFlagsError, data: raw)
                if !isMP { continue }
            }
            try decodeKnown(known, value: value, raw: raw)
        }
    }

    private mutating func decodeKnown(_ type: AttributeType, value: [UInt8], raw: [UInt8]) throws(NotificationMessage) {
        var r = WireReader(value)
        let onMalformed = Self.malformedAction(type)
        switch type {
        case .origin:
            guard value.count == 1 else { return try report(onMalformed, .attributeLengthError, data: raw) }
            guard let origin = Origin(rawValue: value[0]) else { return try report(onMalformed, .invalidOriginAttribute, data: raw) }
            attributes.origin = origin
        case .asPath:
            guard let path = ASPath.decode(value, fourOctet: context.fourOctetAS) else {
                return try report(onMalformed, .malformedASPath)
            }
            attributes.asPath = path
        case .nextHop:
            guard value.count == 4 else { return try report(onMalformed, .attributeLengthError, data: raw) }
            let addr = r.u32()!
            guard Self.isValidNextHop(addr) else { return try report(onMalformed, .invalidNextHopAttribute, data: raw) }
            attributes.nextHop = .v4(addr)
        case .multiExitDisc:
            guard value.count == 4 else { return try report(onMalformed, .attributeLengthError, data: raw) }
            attributes.multiExitDisc = r.u32()
        case .localPref:
            if context.externalPeer { return } // RFC 7606 7.5: discarded from eBGP peers.
            guard value.count == 4 else { return try report(onMalformed, .attributeLengthError, data: raw) }
            attributes.localPref = r.u32()
        case .atomicAggregate:
            guard value.isEmpty else { return try report(onMalformed, .attributeLengthError, data: raw) }
            attributes.atomicAggregate = true
        case .aggregator:
            guard value.count == (context.fourOctetAS ? 8 : 6) else {
                return try report(onMalformed, .attributeLengthError, data: raw)
            }
            let asn = context.fourOctetAS ? r.u32()! : UInt32(r.u16()!)
            attributes.aggregator = Aggregator(asn: asn, address: r.u32()!)
        case .communities:
            guard !value.isEmpty, value.count % 4 == 0 else { return try report(onMalformed, .attributeLengthError, data: raw) }
            attributes.communities = (0..<value.count / 4).map { _ in r.u32()! }
        case .originatorID:
            if context.externalPeer { return }
            guard value.count == 4 else { return try report(onMalformed, .attributeLengthError, data: raw) }
            attributes.originatorID = r.u32()
        case .clusterList:
            if context.externalPeer { return }
            guard !value.isEmpty, value.count % 4 == 0 else { return try report(onMalformed, .attributeLengthError, data: raw) }
            attributes.clusterList = (0..<value.count / 4).map { _ in r.u32()! }
        case .mpReachNLRI:
            try decodeMPReach(&r, raw: raw)
        case .mpUnreachNLRI:
            guard let afi = r.u16(), let safi = r.u8() else { return try report(onMalformed, .optionalAttributeError, data: raw) }
            let family = AddressFamily(afi: .init(rawValue: afi), safi: .init(rawValue: safi))
            guard family.isSupported else { return } // not negotiable with us; ignored (RFC 4760 6)
            guard let withdrawn = IPPrefix.decodeList(&r, afi: family.afi) else {
                return try report(onMalformed, .optionalAttributeError, data: raw)
            }
            attributes.mpUnreach = MPUnreach(family: family, withdrawn: withdrawn)
        case .as4Path:
            // RFC 6793 4.1: a 4-octet speaker discards AS4_PATH; malformed ones are discarded too.
            if context.fourOctetAS { return }
            guard let path = ASPath.decode(value, fourOctet: true),
                  !path.segments.contains(where: { $0.type == .confedSequence || $0.type == .confedSet })
            else { return try report(onMalformed, .malformedASPath) }
            as4Path = path
        case .as4Aggregator:
            if context.fourOctetAS { return }
            guard value.count == 8 else { return try report(onMalformed, .attributeLengthError, data: raw) }
            as4Aggregator = Aggregator(asn: r.u32()!, address: r.u32()!)
        }
    }

    private mutating func decodeMPReach(_ r: inout WireReader, raw: [UInt8]) throws(NotificationMessage) {
        func malformed() throws(NotificationMessage) { try report(.sessionReset, .optionalAttributeError, data: raw) }
        guard let afi = r.u16(), let safi = r.u8(), let nhLen = r.u8(), var nh = r.sub(Int(nhLen)), r.u8() != nil else {
            return try malformed()
        }
        let family = AddressFamily(afi: .init(rawValue: afi), safi: .init(rawValue: safi))
        guard family.isSupported else { return }
        var nextHop: IPAddress?
        var linkLocal: IPAddress?
        switch (family.afi, nhLen) {
        case (.ipv4, 4): nextHop = .v4(nh.u32()!)
        case (.ipv6, 16): nextHop = .v6(nh.u64()!, nh.u64()!)
        case (.ipv6, 32): nextHop = .v6(nh.u64()!, nh.u64()!); linkLocal = .v6(nh.u64()!, nh.u64()!)
        default: return try malformed()
        }
        guard let nlri = IPPrefix.decodeList(&r, afi: family.afi), let nextHop else { return try malformed() }
        attributes.mpReach = MPReach(family: family, nextHop: nextHop, linkLocalNextHop: linkLocal, nlri: nlri)
    }

    /// RFC 4271 6.3: a NEXT_HOP must be a usable unicast host address.
    static func isValidNextHop(_ a: UInt32) -> Bool {
        a != 0 && a != UInt32.max && (a >> 28) != 0xE && (a >> 28) != 0xF
    }

    /// RFC 6793 4.2.3: reconstructs 4-octet values from a 2-octet speaker's AS4 attributes.
    mutating func mergeAS4() {
        guard !context.fourOctetAS else { return }
        if let ag = attributes.aggregator, ag.asn != UInt32(OpenMessage.asTrans) {
            return // AGGREGATOR by a 4-octet-unaware speaker after the AS4 ones: both AS4 attributes are stale.
        }
        if let as4Aggregator { attributes.aggregator = as4Aggregator }
        if let as4Path, let asPath = attributes.asPath {
            attributes.asPath = ASPath.merge(asPath: asPath, as4Path: as4Path)
        }
    }
}
