/// The UPDATE message (RFC 4271 4.3): IPv4 withdrawals and NLRI in the classic fields, other
/// families inside MP_REACH_NLRI / MP_UNREACH_NLRI.
public struct UpdateMessage: Hashable, Sendable {
    public var withdrawn: [IPPrefix]
    public var attributes: PathAttributes
    public var nlri: [IPPrefix]
    /// Errors found while decoding that did not reset the session (RFC 7606); never encoded.
    public var problems: [AttributeProblem]

    public init(withdrawn: [IPPrefix] = [], attributes: PathAttributes = PathAttributes(), nlri: [IPPrefix] = [],
                problems: [AttributeProblem] = []) {
        self.withdrawn = withdrawn
        self.attributes = attributes
        self.nlri = nlri
        self.problems = problems
    }

    /// True when the routes in this message must be handled as withdrawn (RFC 7606 2).
    public var treatAsWithdraw: Bool { problems.contains { $0.action == .treatAsWithdraw } }

    /// The prefixes the RIB must withdraw: the withdrawals, plus every announced route when
    /// treat-as-withdraw applies.
    public var withdrawals: [IPPrefix] { treatAsWithdraw ? unreachable + reachable : unreachable }
    /// The prefixes the RIB may install with `attributes`.
    public var announcements: [IPPrefix] { treatAsWithdraw ? [] : reachable }

    /// The End-of-RIB marker (RFC 4724 2): an empty UPDATE for IPv4 unicast, otherwise an
    /// UPDATE with only an empty MP_UNREACH_NLRI for the family.
    public static func endOfRIB(_ family: AddressFamily) -> UpdateMessage {
        if family == .ipv4Unicast { return UpdateMessage() }
        return UpdateMessage(attributes: PathAttributes(mpUnreach: MPUnreach(family: family, withdrawn: [])))
    }

    /// The family this message marks the end of the initial table for, if it is an End-of-RIB.
    public var endOfRIB: AddressFamily? {
        guard withdrawn.isEmpty, nlri.isEmpty else { return nil }
        if attributes.isEmpty { return .ipv4Unicast }
        if let un = attributes.mpUnreach, un.withdrawn.isEmpty,
           attributes == PathAttributes(mpUnreach: un) { return un.family }
        return nil
    }

    /// Every prefix this message makes reachable, all families.
    public var reachable: [IPPrefix] { nlri + (attributes.mpReach?.nlri ?? []) }
    /// Every prefix this message withdraws, all families.
    public var unreachable: [IPPrefix] { withdrawn + (attributes.mpUnreach?.withdrawn ?? []) }

    public func encodeBody(into w: inout WireWriter, context: WireContext) {
        let wdStart = w.count
        w.u16(0)
        for p in withdrawn { p.encode(into: &w) }
        w.patchU16(at: wdStart, UInt16(clamping: w.count - wdStart - 2))
        let atStart = w.count
        w.u16(0)
        attributes.encode(into: &w, fourOctetAS: context.fourOctetAS)
        w.patchU16(at: atStart, UInt16(clamping: w.count - atStart - 2))
        for p in nlri { p.encode(into: &w) }
    }
}

extension UpdateMessage {
    static func decodeBody(_ r: inout WireReader, context: WireContext) throws(NotificationMessage) -> UpdateMessage {
        let malformedList = NotificationMessage(.updateMessage(.malformedAttributeList))
        guard let wdLen = r.u16(), var wdField = r.sub(Int(wdLen)),
              let atLen = r.u16(), var atField = r.sub(Int(atLen))
        else { throw malformedList }
        // RFC 7606 5.3: an unparseable NLRI or withdrawn field leaves nothing to withdraw safely.
        let invalidNetwork = NotificationMessage(.updateMessage(.invalidNetworkField))
        guard let withdrawn = IPPrefix.decodeList(&wdField, afi: .ipv4) else { throw invalidNetwork }
        guard let nlri = IPPrefix.decodeList(&r, afi: .ipv4) else { throw invalidNetwork }

        var decoder = AttributeDecoder(context: context)
        try decoder.decode(&atField)
        decoder.mergeAS4()
        var attrs = decoder.attributes
        if attrs.mpReach == nil, attrs.mpUnreach == nil, nlri.isEmpty, withdrawn.isEmpty,
           decoder.problems.contains(where: { $0.notification.error == .updateMessage(.malformedAttributeList) }) {
            // The attribute field broke before any route was found: an MP attribute may be hidden
            // behind the damage, so withdrawing "everything in the message" is not possible.
            throw malformedList
        }
        if nlri.isEmpty { attrs.nextHop = nil } // RFC 4760 3: NEXT_HOP means nothing without IPv4 NLRI.

        var update = UpdateMessage(withdrawn: withdrawn, attributes: attrs, nlri: nlri)
        if !update.reachable.isEmpty {
            var missing: [AttributeType] = []
            if attrs.origin == nil { missing.append(.origin) }
            if attrs.asPath == nil { missing.append(.asPath) }
            if !nlri.isEmpty, attrs.nextHop == nil { missing.append(.nextHop) }
            for m in missing where !decoder.problems.contains(where: { $0.action == .treatAsWithdraw }) {
                try decoder.report(.treatAsWithdraw, .missingWellKnownAttribute, data: [m.rawValue])
            }
            // RFC 7606 7.2: an eBGP peer's path must start with its AS and carry no confederation segments.
            if context.externalPeer, let path = attrs.asPath,
               (context.peerAS.map { path.firstAS != $0 } ?? false)
                || path.segments.contains(where: { $0.type == .confedSequence || $0.type == .confedSet }) {
                try decoder.report(.treatAsWithdraw, .malformedASPath)
            }
        }
        update.problems = decoder.problems
        return update
    }
}
