/// Packs many prefixes into as few UPDATEs as fit the session's maximum message length
/// (RFC 4271 4096 octets, or RFC 8654's 65,535). IPv4 unicast uses the classic NLRI and
/// withdrawn fields; other families use MP_REACH_NLRI / MP_UNREACH_NLRI.
public enum UpdatePacking {
    static func encodedSize(_ p: IPPrefix) -> Int { 1 + (Int(p.length) + 7) / 8 }

    /// Greedy split of `prefixes` into chunks whose encoded size stays within `budget`.
    static func chunks(_ prefixes: [IPPrefix], budget: Int) -> [[IPPrefix]] {
        var out: [[IPPrefix]] = []
        var current: [IPPrefix] = []
        var used = 0
        for p in prefixes {
            let size = encodedSize(p)
            if used + size > budget, !current.isEmpty {
                out.append(current)
                current = []
                used = 0
            }
            current.append(p)
            used += size
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// UPDATEs announcing `prefixes` (all of `family`) with `attributes`. For IPv4 unicast the
    /// attributes carry NEXT_HOP; for other families `attributes.mpReach` carries the next hop
    /// (its NLRI list is replaced).
    public static func announce(_ prefixes: [IPPrefix], family: AddressFamily, attributes: PathAttributes,
                                context: WireContext) -> [UpdateMessage] {
        var base = attributes
        if family != .ipv4Unicast { base.mpReach?.nlri = [] }
        var w = WireWriter()
        base.encode(into: &w, fourOctetAS: context.fourOctetAS)
        // Header, two length fields, attributes, and one octet in case MP_REACH needs extended length.
        let budget = context.maxMessageLength - BGPMessage.headerLength - 4 - w.count - 1
        guard budget > 17 else { return [] } // attributes alone leave no room for a /128
        return chunks(prefixes, budget: budget).map { chunk in
            if family == .ipv4Unicast { return UpdateMessage(attributes: base, nlri: chunk) }
            var attrs = base
            attrs.mpReach?.nlri = chunk
            return UpdateMessage(attributes: attrs)
        }
    }

    /// UPDATEs withdrawing `prefixes` (all of `family`).
    public static func withdraw(_ prefixes: [IPPrefix], family: AddressFamily, context: WireContext) -> [UpdateMessage] {
        let mpOverhead = family == .ipv4Unicast ? 0 : 4 + 3
        let budget = context.maxMessageLength - BGPMessage.headerLength - 4 - mpOverhead
        return chunks(prefixes, budget: budget).map { chunk in
            family == .ipv4Unicast
                ? UpdateMessage(withdrawn: chunk)
                : UpdateMessage(attributes: PathAttributes(mpUnreach: MPUnreach(family: family, withdrawn: chunk)))
        }
    }
}
