import Core

/// Whether one rule matches a flow, decided exactly as the rules `RuleRenderer` programs would
/// decide it for the flow's first packet: the same IP versions, the same implicit family and
/// protocol checks nftables adds, selectors as membership of the calculated IP sets, named ports
/// through the named-port sets. Kept in step with RuleRenderer; the randomized cross-check
/// against the rendered ruleset (ExplainCrossCheckTests) holds the two together.
enum ExplainRuleMatch {
    /// `unknown`: everything else matches but the rule needs the source port, which was not given.
    enum Outcome: Int, Comparable {
        case no = 0, unknown = 1, yes = 2
        static func < (a: Outcome, b: Outcome) -> Bool { a.rawValue < b.rawValue }
    }

    static func evaluate(_ rule: PolicyRule, _ flow: ExplainFlow, ipSets: [IPSetID: IPSetMembers], ipv6: Bool = true) -> Outcome {
        var best = Outcome.no
        for version in rule.renderedVersions(ipv6: ipv6) {
            best = max(best, evaluate(rule, flow, version: version, ipSets: ipSets))
            if best == .yes { break }
        }
        return best
    }

    private static func evaluate(_ rule: PolicyRule, _ flow: ExplainFlow, version: Int?, ipSets: [IPSetID: IPSetMembers]) -> Outcome {
        let v6 = version == 6
        let proto = flow.protocol.number
        if let version, rule.ipVersion != nil || !rule.loadsAddresses(version: version), version != flow.ipVersion { return .no }
        if let p = rule.protocol, p.number != proto { return .no }
        if let p = rule.notProtocol, p.number == proto { return .no }
        if let icmp = rule.icmp, !icmpMatches(icmp, flow, v6: v6, negated: false) { return .no }
        if let icmp = rule.notICMP, !icmpMatches(icmp, flow, v6: v6, negated: true) { return .no }
        let source = side(rule.source, rule, flow, source: true, version: version, ipSets: ipSets)
        let destination = side(rule.destination, rule, flow, source: false, version: version, ipSets: ipSets)
        return min(source, destination)
    }

    /// nftables' `icmp type T code C`: the protocol is checked, then the type and (if given) the
    /// code; negated (notICMP), the packet is ICMP but not of that type and code together.
    private static func icmpMatches(_ m: ICMPMatch, _ flow: ExplainFlow, v6: Bool, negated: Bool) -> Bool {
        let proto: UInt8 = v6 ? 58 : 1
        guard flow.protocol.number == proto else { return false }
        let typeEqual = flow.icmpType == m.type
        let codeEqual = m.code.map { flow.icmpCode == $0 } ?? true
        return (typeEqual && codeEqual) != negated
    }

    /// One side: its alternatives (each net, each named-port resolution) ORed, the rest ANDed.
    private static func side(_ side: EntityMatch, _ rule: PolicyRule, _ flow: ExplainFlow, source: Bool, version: Int?,
                             ipSets: [IPSetID: IPSetMembers]) -> Outcome {
        let v6 = version == 6
        let family = v6 ? 6 : 4
        let address = source ? flow.sourceAddress : flow.destinationAddress
        let nets = side.nets.filter { version == nil || $0.ipVersion == version }
        if !side.nets.isEmpty && nets.isEmpty { return .no }
        if !nets.isEmpty && !nets.contains(where: { $0.ipVersion == address.ipVersion && $0.contains(address) }) { return .no }
        for net in side.notNets where version == nil || net.ipVersion == version {
            guard net.ipVersion == address.ipVersion, !net.contains(address) else { return .no }
        }
        if let s = side.selector {
            guard family == address.ipVersion, inSet(ipSets[.selector(s)], address) else { return .no }
        }
        if let s = side.notSelector {
            guard family == address.ipVersion, !inSet(ipSets[.selector(s)], address) else { return .no }
        }
        guard !side.ports.isEmpty || !side.notPorts.isEmpty else { return .yes }

        guard let proto = rule.protocol, [IPProtocol.tcp, .udp, .sctp].contains(proto) else { return .no }
        // A port match loads the transport header only for its own protocol.
        guard flow.protocol == proto else { return .no }
        guard let port = source ? flow.sourcePort : flow.destinationPort else { return source ? .unknown : .no }
        // A named port holds where the side's address has that name for this port.
        func named(_ name: String) -> Bool {
            let members = ipSets[.namedPort(side.selector ?? .all, rule.protocol, name)]?.ports ?? []
            return members.contains {
                $0.protocol == proto && $0.port == port && $0.address.isIPv6 == v6 && family == address.ipVersion
                    && $0.address.contains(address)
            }
        }
        for case .range(let lo, let hi) in side.notPorts where (lo...hi).contains(port) { return .no }
        // A negated named port is still a lookup of this family's address: another family's fails it.
        for case .named(let name) in side.notPorts { guard family == address.ipVersion, !named(name) else { return .no } }
        guard !side.ports.isEmpty else { return .yes }
        for case .range(let lo, let hi) in side.ports where (lo...hi).contains(port) { return .yes }
        for case .named(let name) in side.ports where named(name) { return .yes }
        return .no
    }

    private static func inSet(_ members: IPSetMembers?, _ address: IPNet) -> Bool {
        members?.nets.contains { $0.ipVersion == address.ipVersion && $0.contains(address) } ?? false
    }
}
